/** `eventRate`: a gap-free series from sparse bucket counters, with its statistics computed here, not in the database. */
import { BUCKET_MS, type BucketCount, type RateBucket } from './analytics-store.js';
import { bucketStart } from './counters.js';
import { invalid } from './inputs.js';

/** Most points one `eventRate` returns: a day of minutes, 60 days of hours, ~4 years of days. */
export const MAX_BUCKETS = 1440;

export interface RateSeries {
  readonly bucket: RateBucket;
  /** `from` rounded down to its bucket start. */
  readonly from: number;
  readonly to: number;
  readonly points: BucketCount[];
  readonly total: number;
  /** Mean events per bucket. */
  readonly average: number;
  /** 95th percentile of events per bucket (nearest rank). */
  readonly p95: number;
  /** The busiest bucket (the first of equals); null when the series is empty. */
  readonly peak: BucketCount | null;
}

/** The bucket starts covering `[from, to)`; BAD_USER_INPUT beyond MAX_BUCKETS. */
export function bucketRange(from: number, to: number, bucket: RateBucket): { first: number; count: number } {
  if (to <= from) throw invalid('to', 'must be after from');
  const first = bucketStart(from, bucket);
  const count = Math.ceil((to - first) / BUCKET_MS[bucket]);
  if (count > MAX_BUCKETS) {
    throw invalid('bucket', `${count} ${bucket} buckets requested; at most ${MAX_BUCKETS}: narrow the range or use a wider bucket`);
  }
  return { first, count };
}

/** Nearest-rank percentile of `values` (`p` in (0, 100]); 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

/** Every bucket of the range, zero where the counters have none. */
export function toRateSeries(counts: readonly BucketCount[], from: number, to: number, bucket: RateBucket): RateSeries {
  const { first, count } = bucketRange(from, to, bucket);
  const byStart = new Map(counts.map((c) => [c.start, c.count]));
  const points = Array.from({ length: count }, (_, i) => {
    const start = first + i * BUCKET_MS[bucket];
    return { start, count: byStart.get(start) ?? 0 };
  });
  const values = points.map((p) => p.count);
  const total = values.reduce((sum, n) => sum + n, 0);
  const peak = points.reduce<BucketCount | null>((best, p) => (best === null || p.count > best.count ? p : best), null);
  return { bucket, from: first, to, points, total, average: points.length ? total / points.length : 0, p95: percentile(values, 95), peak };
}
