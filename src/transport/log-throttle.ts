/**
 * Logs a flood of low-level client errors (bad frames, invalid UTF-8, oversized messages) as at most one
 * structured line per interval, with a count, instead of one line per frame.
 */
import type { Logger } from '../log.js';

export interface LogThrottle {
  note(details: Record<string, unknown>): void;
}

export function createLogThrottle(logger: Logger, what: string, intervalMs = 10_000): LogThrottle {
  let windowStart = 0;
  let suppressed = 0;
  return {
    note(details) {
      const now = Date.now();
      if (now - windowStart < intervalMs) {
        suppressed++;
        return;
      }
      logger.info({ ...details, suppressed }, what);
      windowStart = now;
      suppressed = 0;
    },
  };
}
