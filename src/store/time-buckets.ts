/** Time buckets computed once at write time so analytics run as plain counters on any store. */
export interface TimeBuckets {
  /** UTC day, `YYYY-MM-DD`. */
  readonly day: string;
  /** UTC hour 0-23. */
  readonly hour: number;
  /** UTC weekday 0-6, 0 = Sunday. */
  readonly weekday: number;
}

export function timeBuckets(timestamp: number): TimeBuckets {
  const d = new Date(timestamp);
  return { day: d.toISOString().slice(0, 10), hour: d.getUTCHours(), weekday: d.getUTCDay() };
}
