/**
 * The documentation checked like code: every TypeScript block in the markdown is a region of a sample in
 * this folder (which the typecheck compiles and samples.test.ts runs), every relative link and anchor
 * resolves, the README stays short enough to be read to the end, and nothing points at an issue tracker or
 * at documents outside the repository.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SAMPLES = join(ROOT, 'docs/examples');
const README_LIMIT = 15_360;

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(path, suffix);
    return entry.name.endsWith(suffix) ? [path] : [];
  });
}

/** Every markdown file a reader meets: the root's, docs/ and each package's README. */
function markdownFiles(): string[] {
  const roots = ['README.md', 'CONTRIBUTING.md'].map((name) => join(ROOT, name)).filter(existsSync);
  const packages = ['libs', 'infra', 'services']
    .flatMap((group) => readdirSync(join(ROOT, group)).map((name) => join(ROOT, group, name, 'README.md')))
    .filter(existsSync);
  const extra = [join(ROOT, 'services/README.md'), join(ROOT, 'schemas/README.md')].filter(existsSync);
  return [...roots, ...filesUnder(join(ROOT, 'docs'), '.md'), ...packages, ...extra];
}

function dedent(lines: string[]): string {
  const indent = Math.min(...lines.filter((line) => line.trim() !== '').map((line) => /^ */.exec(line)![0].length));
  return lines.map((line) => line.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

/**
 * The text a block may show: a whole sample, or one region of it without the markers (`// #region <name>` …
 * `// #endregion <name>` in TypeScript and Go, `# region <name>` … `# endregion <name>` in Python).
 */
function sampleTexts(files: readonly string[], comment = '//'): Map<string, string> {
  const texts = new Map<string, string>();
  const marker = comment === '#' ? '# ' : '// #';
  const escaped = marker.replace(/[/#]/g, (c) => `\\${c}`);
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const name = relative(ROOT, file);
    texts.set(source.replace(/\n$/, ''), name);
    const lines = source.split('\n');
    lines.forEach((line, start) => {
      const region = new RegExp(`^\\s*${escaped}region (\\S+)`).exec(line)?.[1];
      if (region === undefined) return;
      const end = lines.findIndex((other, index) => index > start && other.trim() === `${marker}endregion ${region}`);
      if (end === -1) throw new Error(`${name}: region ${region} has no end`);
      // Regions may nest: the markers of inner ones are not part of the text.
      const body = lines.slice(start + 1, end).filter((inner) => !new RegExp(`^\\s*${escaped}(end)?region\\b`).test(inner));
      texts.set(dedent(body).replace(/\n+$/, ''), `${name}#${region}`);
    });
  }
  return texts;
}

/** Code in other languages the guides show: the Python loyalty service and the tests' Go micrologic, run by their tests. */
const OTHER_LANGUAGES = [
  { fence: 'python', comment: '#', files: () => filesUnder(join(ROOT, 'services/loyalty'), '.py') },
  { fence: 'go', comment: '//', files: () => filesUnder(join(ROOT, 'test/sidecar/go'), '.go') },
];

function codeBlocks(markdown: string, language: string): string[] {
  const blocks: string[] = [];
  const fence = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm');
  for (const match of markdown.matchAll(fence)) blocks.push(match[1]!.replace(/\n$/, ''));
  return blocks;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const withoutCode = markdown.replace(/^```[\s\S]*?^```$/gm, '');
  for (const [, heading] of withoutCode.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = heading!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

describe('the documentation', () => {
  it(`keeps the README under ${README_LIMIT} bytes`, () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThanOrEqual(README_LIMIT);
  });

  it('shows only TypeScript that is a compiled, tested sample of docs/examples', () => {
    const samples = sampleTexts(filesUnder(SAMPLES, '.ts'));
    const strays: string[] = [];
    let blocks = 0;
    for (const file of markdownFiles()) {
      for (const block of codeBlocks(readFileSync(file, 'utf8'), '(?:ts|typescript)')) {
        blocks += 1;
        if (!samples.has(block)) strays.push(`${relative(ROOT, file)}: a block starting ${JSON.stringify(block.split('\n')[0])}`);
      }
    }
    expect(strays, 'copy the block from its sample (a whole file or one #region) or make it one').toEqual([]);
    expect(blocks).toBeGreaterThan(0);
  });

  it('shows only Python and Go that is a region of a file the tests run', () => {
    const strays: string[] = [];
    let blocks = 0;
    for (const { fence, comment, files } of OTHER_LANGUAGES) {
      const samples = sampleTexts(files(), comment);
      for (const file of markdownFiles()) {
        for (const block of codeBlocks(readFileSync(file, 'utf8'), fence)) {
          blocks += 1;
          if (!samples.has(block)) strays.push(`${relative(ROOT, file)}: a ${fence} block starting ${JSON.stringify(block.split('\n')[0])}`);
        }
      }
    }
    expect(strays, 'copy the block from its file (a whole file or one region) or make it one').toEqual([]);
    expect(blocks).toBeGreaterThan(0);
  });

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const markdown = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
      for (const [, target] of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue; // https:, mailto:
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const destination = path === '' ? file : resolve(dirname(file), path);
        if (!existsSync(destination)) {
          broken.push(`${relative(ROOT, file)}: ${target} (no such file)`);
        } else if (anchor !== undefined && destination.endsWith('.md') && !anchorsOf(readFileSync(destination, 'utf8')).has(anchor)) {
          broken.push(`${relative(ROOT, file)}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('cites no issue and no document outside the repository, in docs, comments or tests', () => {
    // Built from parts so that this file does not match itself.
    const pattern = ['\\bissue [0-9]+', '\\.\\./shared/', '\\bDESIGN\\.md', '\\bSTYLE\\.md', '\u00a7'].join('|');
    const grep = spawnSync('git', ['grep', '-nIE', pattern, '--', '.', ':!package-lock.json'], { cwd: ROOT, encoding: 'utf8' });
    if (grep.error) return; // not a git checkout: nothing to search
    expect(grep.stdout.split('\n').filter(Boolean)).toEqual([]);
  });
});
