/**
 * One Herald in a process of its own, for integration tests that need instances with their own event loops, or
 * one to SIGKILL. Driven by test/utils/herald-process.ts over IPC; configured from the environment, as `npm start`.
 * IPC: sends `{ url }` once listening; answers `{ ask: 'routerSize', id }` with `{ id, routerSize }`; with
 * HERALD_TEST_ANNOUNCE=1 sends `{ announced: <event id>, at }` as each event reaches its router (`at`: epoch ms,
 * sub-millisecond, comparable across processes). SIGTERM closes it gracefully; so does the parent going away.
 */
import { performance } from 'node:perf_hooks';
import { createHerald } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';

const config = loadConfig();
const herald = await createHerald(config, createLogger(config.logLevel));
const url = await herald.listen();
const send = (message: object) => {
  if (process.connected) process.send?.(message);
};

if (process.env['HERALD_TEST_ANNOUNCE'] === '1') {
  herald.hub.router.add({
    viewer: { userId: 'adm_test_probe', role: 'admin' },
    types: null,
    push: (event) => send({ announced: event.id, at: performance.timeOrigin + performance.now() }),
  });
}
process.on('message', (message: { ask?: string; id?: number }) => {
  if (message?.ask === 'routerSize') send({ id: message.id, routerSize: herald.hub.router.size });
});

let closing = false;
const close = () => {
  if (closing) return;
  closing = true;
  void herald.close().finally(() => process.exit(0));
};
process.once('SIGTERM', close);
process.once('disconnect', close);
send({ url });
