/** Timing helpers for the benchmarks: bounded sampling loops, percentiles, a plain-text table. */
import { performance } from 'node:perf_hooks';

export interface Sampled {
  readonly samples: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Runs `fn` `warmup` times untimed (for at most `maxMs / 5`), then up to `count` timed calls for at most `maxMs`,
 * and returns latency percentiles in ms. `fn` receives the iteration number. A call slower than the whole
 * budget is made once: its (cold) time is the only sample.
 */
export async function sample(fn: (i: number) => Promise<unknown>, count: number, options: { warmup?: number; maxMs?: number } = {}): Promise<Sampled> {
  const maxMs = options.maxMs ?? 30_000;
  let i = 0;
  let last = Number.NaN;
  const warmupEnd = performance.now() + maxMs / 5;
  while (i < (options.warmup ?? 10) && performance.now() < warmupEnd) {
    const start = performance.now();
    await fn(i++);
    last = performance.now() - start;
  }
  const times: number[] = [];
  const deadline = performance.now() + maxMs;
  if (!(last > maxMs)) {
    for (let n = 0; n < count && performance.now() < deadline; n++) {
      const start = performance.now();
      await fn(i++);
      times.push(performance.now() - start);
    }
  }
  if (times.length === 0) times.push(last);
  times.sort((a, b) => a - b);
  return { samples: times.length, p50: percentile(times, 50), p95: percentile(times, 95), max: times[times.length - 1] ?? Number.NaN };
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} ms` : 'n/a');
export const rate = (perSecond: number) => `${Math.round(perSecond).toLocaleString('en-US')} ev/s`;
export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
