/**
 * Logs a flood of low-level client errors (bad frames, invalid UTF-8, oversized or refused requests, rate-limit
 * refusals) as at most two structured lines per interval and kind, instead of one line per frame: the first occurrence
 * at once (with its request/session ids), and, when more followed within the interval, one line with their count at
 * its end. Used by every entry point that refuses input before it runs: ws.ts, sse.ts, http.ts.
 */
import type { Logger } from '../log.js';

export interface LogThrottle {
  note(details: Record<string, unknown>): void;
}

/** @param intervalMs the window of one line (and its count). @default 10000 */
export function createLogThrottle(logger: Logger, what: string, intervalMs = 10_000): LogThrottle {
  let windowStart = 0;
  let suppressed = 0;
  let last: Record<string, unknown> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    if (suppressed > 0) logger.info({ ...last, suppressed, intervalMs }, `${what}: ${suppressed} more within ${intervalMs / 1000} s`);
    suppressed = 0;
    last = undefined;
  };
  return {
    note(details) {
      const now = Date.now();
      if (now - windowStart < intervalMs) {
        suppressed++;
        last = details;
        return;
      }
      if (timer) {
        clearTimeout(timer);
        flush(); // the previous window's count first
      }
      windowStart = now;
      logger.info({ ...details, suppressed: 0 }, what);
      timer = setTimeout(flush, intervalMs);
      timer.unref?.();
    },
  };
}
