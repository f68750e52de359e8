/**
 * One Herald for the benchmarks, in its own process so its memory is measured alone: configured from the
 * environment (like `npm start`). Two ways to drive it:
 * - spawned without IPC (store benchmark): prints `{"url": …}` once listening, then `rss <bytes>` every 25 ms;
 *   stdin command `gc` (collect garbage, answer `gc-done`);
 * - forked/spawned with an IPC channel (fan-out benchmark): sends `{ url }` once listening and answers the probes of
 *   test/bench/server-probe.ts (`mem`, with or without a collection; `{ rss }` ticks every BENCH_RSS_TICK_MS,
 *   default 100); nothing is written to stdout. Exits when the driver disconnects.
 * BENCH_HERALD_DIST (a compiled `src/` directory, see build.ts) serves that build, as `npm start` would; else
 * BENCH_HERALD_SRC (a `src/` directory, default this checkout's) runs the sources through tsx. Either can be another
 * copy of Herald, e.g. an older commit extracted with `git archive`, so two versions are measured with one harness.
 * SIGTERM closes it gracefully.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { answerProbes } from './server-probe.js';

const distDir = process.env['BENCH_HERALD_DIST'];
const srcDir = process.env['BENCH_HERALD_SRC'];
const src = (file: string) =>
  distDir ? pathToFileURL(`${distDir}/${file.replace(/\.ts$/, '.js')}`).href : srcDir ? pathToFileURL(`${srcDir}/${file}`).href : new URL(`../../src/${file}`, import.meta.url).href;
const { createHerald } = (await import(src('app.ts'))) as typeof import('../../src/app.js');
const { loadConfig } = (await import(src('config.ts'))) as typeof import('../../src/config.js');
const { createLogger } = (await import(src('log.ts'))) as typeof import('../../src/log.js');

const config = loadConfig();
const herald = await createHerald(config, createLogger(config.logLevel));
const url = await herald.listen();

let timer: ReturnType<typeof setInterval> | undefined;
if (process.send) {
  answerProbes({ tickMs: Number(process.env['BENCH_RSS_TICK_MS'] ?? 100) });
  process.send({ url });
} else {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  timer = setInterval(() => process.stdout.write(`rss ${process.memoryUsage.rss()}\n`), 25);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'gc') {
      gc();
      process.stdout.write('gc-done\n');
    }
  });
}
process.once('SIGTERM', () => {
  clearInterval(timer);
  void herald.close().finally(() => process.exit(0));
});
