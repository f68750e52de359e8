/**
 * When to retry a failed webhook delivery. A schedule is a list of delays, one per attempt: entry `i` is
 * the wait before attempt `i + 1`, so `0,5s,5m` means "now, 5 s after the first failure, 5 min after the
 * second, then give up".
 */
import { ConfigError } from '../errors.js';

/** Svix's schedule: 8 attempts over about 27 hours. */
export const DEFAULT_RETRY_SCHEDULE = '0,5s,5m,30m,2h,5h,10h,10h';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const ENTRY = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;

/**
 * Parses a comma-separated schedule such as {@link DEFAULT_RETRY_SCHEDULE} into delays in milliseconds.
 * Units are `ms`, `s`, `m`, `h`, `d`; a bare number is seconds; decimals are allowed (`1.5h`).
 * @throws {ConfigError} naming the first bad entry, or when the schedule is empty.
 */
export function parseRetrySchedule(spec: string): number[] {
  if (spec.trim() === '') throw new ConfigError('retry schedule is empty');
  return spec.split(',').map((raw, index) => {
    const entry = raw.trim();
    const match = ENTRY.exec(entry);
    const ms = match ? Math.round(Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS]) : NaN;
    if (!Number.isSafeInteger(ms)) {
      throw new ConfigError(
        `retry schedule entry #${index + 1} "${entry}" is not a delay (e.g. 0, 30, 500ms, 5s, 5m, 2h, 1d)`,
      );
    }
    return ms;
  });
}

/**
 * Parses one duration in the schedule syntax (`500ms`, `30` = seconds, `5m`, `1.5h`, `5d`) into milliseconds.
 * Used for duration settings such as `WEBHOOK_DISABLE_AFTER`.
 * @throws {ConfigError} when `spec` is not a duration.
 */
export function parseDuration(spec: string): number {
  const entry = spec.trim();
  const match = ENTRY.exec(entry);
  const ms = match ? Math.round(Number(match[1]) * UNIT_MS[(match[2] ?? 's') as keyof typeof UNIT_MS]) : NaN;
  if (!Number.isSafeInteger(ms)) throw new ConfigError(`"${entry}" is not a duration (e.g. 0, 30, 500ms, 5s, 5m, 2h, 1d)`);
  return ms;
}

export interface NextAttemptOptions {
  /** Attempts already made, at least 1. */
  readonly attempt: number;
  /** Delays in ms, from {@link parseRetrySchedule}. */
  readonly schedule: readonly number[];
  /**
   * Relative spread applied to the scheduled delay (`0.2` = ±20 %), so endpoints that failed together do
   * not all retry in the same instant. Between 0 and 1.
   * @default 0.2
   */
  readonly jitter?: number;
  /**
   * Source of randomness in [0, 1); inject a constant in tests.
   * @default Math.random
   */
  readonly random?: () => number;
  /** The receiver's `Retry-After`, in ms (see {@link parseRetryAfter}). It can lengthen a delay, never shorten it. */
  readonly retryAfterMs?: number;
  /**
   * Upper bound on how long `Retry-After` may push a retry out, so a receiver cannot park deliveries for days.
   * @default 3_600_000 (1 hour)
   */
  readonly retryAfterCapMs?: number;
}

/**
 * The delay in ms before the next attempt, or `null` when the schedule is exhausted (give up).
 * With `Retry-After`: `max(jittered scheduled delay, min(retryAfterMs, retryAfterCapMs))`.
 * @throws {RangeError} on an `attempt` below 1 or a `jitter` outside [0, 1]: programming errors, not input.
 */
export function nextAttemptDelay({
  attempt,
  schedule,
  jitter = 0.2,
  random = Math.random,
  retryAfterMs,
  retryAfterCapMs = 3_600_000,
}: NextAttemptOptions): number | null {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  }
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`jitter must be between 0 and 1, got ${jitter}`);
  const scheduled = schedule[attempt];
  if (scheduled === undefined) return null;
  const jittered = Math.max(0, Math.round(scheduled * (1 + jitter * (2 * random() - 1))));
  if (retryAfterMs === undefined || !(retryAfterMs > 0)) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, retryAfterCapMs));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** `Sun, 06 Nov 1994 08:49:37 GMT` (the preferred form). */
const IMF_FIXDATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete RFC 850). */
const RFC850_DATE = new RegExp(`^(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
/** `Sun Nov  6 08:49:37 1994` (obsolete asctime, always GMT). */
const ASCTIME_DATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/** Epoch ms of a valid calendar date and time in GMT, or undefined (e.g. for 31 Feb or 25:00:00). */
const utc = (year: number, month: string, day: string, h: string, m: string, s: string): number | undefined => {
  const monthIndex = MONTHS.indexOf(month);
  const [d, hh, mm, ss] = [day, h, m, s].map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(year, monthIndex, d, hh, mm, ss));
  const exact =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === monthIndex &&
    date.getUTCDate() === d &&
    date.getUTCHours() === hh &&
    date.getUTCMinutes() === mm &&
    date.getUTCSeconds() === ss;
  return exact ? date.getTime() : undefined;
};

/** The three HTTP-date forms of RFC 9110 §5.6.7, parsed strictly (`Date.parse` would read asctime as local time). */
const parseHttpDate = (value: string, now: Date): number | undefined => {
  let match = IMF_FIXDATE.exec(value);
  if (match) {
    const [, day = '', month = '', year = '', h = '', m = '', s = ''] = match;
    return utc(Number(year), month, day, h, m, s);
  }
  match = RFC850_DATE.exec(value);
  if (match) {
    const [, day = '', month = '', yy = '', h = '', m = '', s = ''] = match;
    // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
    const century = Math.floor(now.getUTCFullYear() / 100) * 100;
    const year = century + Number(yy) > now.getUTCFullYear() + 50 ? century - 100 + Number(yy) : century + Number(yy);
    return utc(year, month, day, h, m, s);
  }
  match = ASCTIME_DATE.exec(value);
  if (match) {
    const [, month = '', day = '', h = '', m = '', s = '', year = ''] = match;
    return utc(Number(year), month, day.trim(), h, m, s);
  }
  return undefined;
};

/**
 * Reads a `Retry-After` header (delta-seconds or HTTP-date) as a delay in ms from `now`.
 * A date in the past gives 0.
 * @returns `undefined` when the header is absent or malformed (then only the schedule applies).
 */
export function parseRetryAfter(header: string | null, now: Date): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = parseHttpDate(value, now);
  return at === undefined ? undefined : Math.max(0, at - now.getTime());
}
