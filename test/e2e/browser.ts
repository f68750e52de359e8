/**
 * Browser tests' plumbing: Debian's Chromium driven by playwright-core (it cannot download browsers here), the
 * notification centre built when its sources are newer than clients/web/dist, and screenshots under
 * test/artifacts/ (ignored by git). Without /usr/bin/chromium the tests skip, except where
 * HERALD_REQUIRE_BROWSER=1 (.ci/run installs chromium and sets it): there a missing browser fails the run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = new URL('../../', import.meta.url).pathname;
const WEB = join(ROOT, 'clients', 'web');
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function findChromium(): string | null {
  return CANDIDATES.find((path) => existsSync(path)) ?? null;
}

/** Why the browser tests cannot run here, or null when they can; throws where they must run. */
export function browserSkipReason(): string | null {
  if (findChromium()) return null;
  const reason = 'no Chromium at /usr/bin/chromium (apt-get install -y chromium)';
  if (process.env['HERALD_REQUIRE_BROWSER'] === '1') throw new Error(`${reason}; HERALD_REQUIRE_BROWSER=1 makes that a failure`);
  return reason;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium()!, args: ARGS, headless: true, timeout: 30_000 });
}

function newestMtime(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Runs `vite build` for clients/web unless dist is newer than every source of it. */
export function ensureWebBuild(): void {
  const index = join(WEB, 'dist', 'index.html');
  const sources = Math.max(...['src', 'index.html', 'vite.config.ts'].map((p) => newestMtime(join(WEB, p))));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', WEB, '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`vite build failed: ${result.stderr || result.stdout}`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}
