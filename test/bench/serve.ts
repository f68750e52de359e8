/**
 * One Herald for the store benchmark, in its own process so its memory is measured alone: configured from the
 * environment (like `npm start`), it prints `{"url": …}` once listening, then `rss <bytes>` every 25 ms.
 * Stdin commands: `gc` (collect garbage, answer `gc-done`). SIGTERM closes it gracefully.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createInterface } from 'node:readline';
import { createHerald } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const config = loadConfig();
const herald = await createHerald(config, createLogger(config.logLevel));
const url = await herald.listen();
process.stdout.write(`${JSON.stringify({ url })}\n`);

const timer = setInterval(() => process.stdout.write(`rss ${process.memoryUsage.rss()}\n`), 25);
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'gc') {
    gc();
    process.stdout.write('gc-done\n');
  }
});
process.once('SIGTERM', () => {
  clearInterval(timer);
  void herald.close().finally(() => process.exit(0));
});
