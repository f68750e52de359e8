/**
 * The memory/CPU probe a benchmark server child answers over IPC (used by serve.ts when forked with an IPC channel,
 * and by fanout-raw.ts), so the driver measures the server process alone:
 * - `{ cmd: 'mem', gc?: true }` -> `{ mem: process.memoryUsage(), cpu: process.cpuUsage() }`, after two full
 *   collections when `gc` is set (the process should run with `--expose-gc`; without it the flag is set at run time);
 * - `{ cmd: 'snapshot', path }` -> writes a V8 heap snapshot there (after full collections) -> `{ path }`;
 * - unsolicited `{ rss }` every `tickMs`, so the driver sees the peak between its own requests.
 * The child exits when the driver goes away (IPC disconnect), so a crashed benchmark leaves no server behind.
 */
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { answerRequests, type IpcRequest } from './fanout-shared.js';

function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export interface ProbeOptions {
  /** @default 100 */
  readonly tickMs?: number;
  /** Further requests the server answers (return undefined to leave one unanswered). */
  readonly extra?: (request: IpcRequest) => Promise<Record<string, unknown>> | Record<string, unknown> | undefined;
  /** Called when the driver disconnects, before exiting. */
  readonly onDisconnect?: () => void;
}

export function answerProbes(options: ProbeOptions = {}): void {
  const gc = collector();
  answerRequests((request) => {
    if (request.cmd === 'mem') {
      if (request['gc']) {
        gc();
        gc();
      }
      return { mem: process.memoryUsage(), cpu: process.cpuUsage() };
    }
    if (request.cmd === 'snapshot' && typeof request['path'] === 'string') {
      gc();
      gc();
      return { path: writeHeapSnapshot(request['path']) };
    }
    return options.extra?.(request);
  });
  const timer = setInterval(() => process.send?.({ rss: process.memoryUsage.rss() }), options.tickMs ?? 100);
  timer.unref();
  process.once('disconnect', () => {
    options.onDisconnect?.();
    process.exit(0);
  });
}
