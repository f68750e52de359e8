/**
 * Benchmarks measure Herald as `npm start` runs it: compiled by tsc to plain JavaScript (tsx's esbuild keeps
 * function names with a `defineProperty` per closure, which costs every closure a property dictionary).
 * `buildHerald(src)` compiles the checkout that holds `src` (this one with src/tsconfig.build.json; another one, e.g.
 * an older commit extracted with `git archive`, into a temporary directory with its schema/ beside it) and returns
 * the directory of the compiled `src/`, for serve.ts's BENCH_HERALD_DIST.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(repo, 'node_modules', '.bin', 'tsc');

export type Runtime = 'build' | 'tsx';

export function buildHerald(srcDir: string): string {
  const root = dirname(resolve(srcDir));
  if (resolve(root) === resolve(repo)) {
    execFileSync(tsc, ['-p', join(repo, 'src', 'tsconfig.build.json')], { stdio: 'inherit' });
    return join(repo, 'dist', 'src');
  }
  const out = join(tmpdir(), `herald-bench-build-${createHash('sha256').update(root).digest('hex').slice(0, 10)}`);
  const args = ['-p', join(root, 'tsconfig.json'), '--noEmit', 'false', '--allowImportingTsExtensions', 'false', '--outDir', out, '--rootDir', root, '--incremental', 'false'];
  try {
    execFileSync(tsc, args, { stdio: 'pipe' });
  } catch (error) {
    // Type errors (e.g. an older commit against today's dependencies) still emit JavaScript.
    if (!existsSync(join(out, 'src', 'app.js'))) throw error;
  }
  if (existsSync(join(root, 'schema'))) cpSync(join(root, 'schema'), join(out, 'schema'), { recursive: true });
  return join(out, 'src');
}
