/**
 * A real browser for the console's page tests: Debian's chromium (`apt-get install chromium`, which .ci/run
 * does) driven by playwright-core, which downloads no browser of its own. Without chromium the tests fail with
 * the reason, never skip: CI has it, so its absence is a broken machine, not a choice.
 *
 * Screenshots are kept as test artifacts in test-artifacts/console/ (gitignored), one PNG per test, named by it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { onTestFinished } from 'vitest';
import { REPO_ROOT } from '../e2e/support/shoal-dev.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts', 'console');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the console's browser tests need Debian's chromium at ${CHROMIUM}: install it with 'apt-get install chromium' (.ci/run does)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** A new page of `browser`, closed when the test ends. */
export async function newPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  onTestFinished(() => page.close());
  return page;
}

/** Saves the whole page as test-artifacts/console/<name>.png and returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
