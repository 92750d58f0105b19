/**
 * The page's assets, built by the console itself when it starts: web/main.ts and what it imports (the graph
 * layout of @dagrejs/dagre included) bundled by esbuild into one script in memory, served with web/index.html
 * and web/console.css. Nothing comes from a CDN or the internet, there is no build step to forget, and the
 * bundle always matches the code (about 100 ms, once per process).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface WebAssets {
  html: string;
  script: string;
  style: string;
}

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

let built: Promise<WebAssets> | undefined;

export function webAssets(): Promise<WebAssets> {
  built ??= bundle();
  return built;
}

async function bundle(): Promise<WebAssets> {
  const result = await build({
    entryPoints: [`${WEB_DIR}main.ts`],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return {
    html: readFileSync(`${WEB_DIR}index.html`, 'utf8'),
    script: result.outputFiles[0]!.text,
    style: readFileSync(`${WEB_DIR}console.css`, 'utf8'),
  };
}
