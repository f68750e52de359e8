/** Time buckets computed once at write time so analytics run as plain counters on any store. */
export interface TimeBuckets {
  /** UTC day, `YYYY-MM-DD`. */
  readonly day: string;
  /** UTC hour 0-23. */
  readonly hour: number;
  /** UTC weekday 0-6, 0 = Sunday. */
  readonly weekday: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

// Arithmetic instead of a Date per event (this runs for every appended event); the day's string is cached.
let cachedDayNumber = Number.NaN;
let cachedDay = '';

export function timeBuckets(timestamp: number): TimeBuckets {
  const dayNumber = Math.floor(timestamp / DAY_MS);
  if (dayNumber !== cachedDayNumber) {
    cachedDay = new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
    cachedDayNumber = dayNumber;
  }
  const msOfDay = timestamp - dayNumber * DAY_MS;
  // 1970-01-01 was a Thursday (4).
  return { day: cachedDay, hour: Math.floor(msOfDay / HOUR_MS), weekday: (((dayNumber + 4) % 7) + 7) % 7 };
}
