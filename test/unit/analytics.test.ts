import { describe, expect, it, vi } from 'vitest';
import { bucketStart, counterIncrements, utcDay } from '../../src/analytics/counters.js';
import { bucketRange, MAX_BUCKETS, percentile, toRateSeries } from '../../src/analytics/event-rate.js';
import { toHeatmap } from '../../src/analytics/heatmap.js';
import { toDaySummary } from '../../src/analytics/summary.js';
import { checkRange, intInRange, parseDay } from '../../src/analytics/inputs.js';
import { createErrorRecorder, normalizeReport } from '../../src/analytics/error-recorder.js';
import type { ErrorInput, ErrorStore } from '../../src/analytics/error-store.js';
import { csvCell, csvRow, exportEncoding, toExportRecord } from '../../src/analytics/export.js';
import { ValidationError } from '../../src/errors.js';
import type { EventId, HeraldEvent } from '../../src/events/model.js';
import { timeBuckets } from '../../src/store/time-buckets.js';
import { createCursorCodec } from '../../src/events/cursor.js';

const T = Date.UTC(2024, 0, 7, 23, 59, 30); // Sunday, 30 s before midnight UTC
const MIN = 60_000;

const fieldOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).details?.['field'];
  }
  throw new Error('did not throw');
};

describe('counter increments', () => {
  it('aggregates a batch into one increment per day x dimension x key and per bucket', () => {
    const events = [
      { type: 'order_created', source: 'orders', level: 'HIGH', timestamp: T },
      { type: 'order_created', source: 'orders', level: 'HIGH', timestamp: T + 10_000 },
      { type: 'payment_failed', source: 'payments', level: 'CRITICAL', timestamp: T + MIN }, // next day
    ] as const;
    const { daily, buckets } = counterIncrements(events);
    expect(daily).toEqual(
      expect.arrayContaining([
        { day: '2024-01-07', dimension: 'total', key: '*', count: 2 },
        { day: '2024-01-07', dimension: 'type', key: 'order_created', count: 2 },
        { day: '2024-01-07', dimension: 'source', key: 'orders', count: 2 },
        { day: '2024-01-07', dimension: 'level', key: 'HIGH', count: 2 },
        { day: '2024-01-08', dimension: 'total', key: '*', count: 1 },
        { day: '2024-01-08', dimension: 'level', key: 'CRITICAL', count: 1 },
      ]),
    );
    expect(daily).toHaveLength(8);
    expect(buckets).toEqual(
      expect.arrayContaining([
        { bucket: 'minute', start: T - 30_000, count: 2 },
        { bucket: 'minute', start: T + 30_000, count: 1 },
        { bucket: 'hour', start: Date.UTC(2024, 0, 7, 23), count: 2 },
        { bucket: 'day', start: Date.UTC(2024, 0, 8), count: 1 },
      ]),
    );
    expect(buckets).toHaveLength(6);
  });

  it('aligns buckets to UTC boundaries', () => {
    expect(bucketStart(T, 'minute')).toBe(Date.UTC(2024, 0, 7, 23, 59));
    expect(bucketStart(T, 'hour')).toBe(Date.UTC(2024, 0, 7, 23));
    expect(bucketStart(T, 'day')).toBe(Date.UTC(2024, 0, 7));
    expect(utcDay(T)).toBe('2024-01-07');
  });
});

describe('time buckets stored on events', () => {
  it('match Date for UTC day, hour and weekday, also before 1970', () => {
    for (const ts of [0, T, Date.UTC(1969, 11, 31, 23, 59), Date.UTC(2038, 0, 19, 3, 14), Date.UTC(2024, 1, 29, 12)]) {
      const d = new Date(ts);
      expect(timeBuckets(ts)).toEqual({ day: d.toISOString().slice(0, 10), hour: d.getUTCHours(), weekday: d.getUTCDay() });
    }
  });
});

describe('event rate series', () => {
  it('fills zero buckets and computes total, average, p95 and peak in TypeScript', () => {
    const from = Date.UTC(2024, 0, 1, 10, 15);
    const to = Date.UTC(2024, 0, 1, 14);
    const series = toRateSeries([{ start: Date.UTC(2024, 0, 1, 11), count: 4 }, { start: Date.UTC(2024, 0, 1, 13), count: 1 }], from, to, 'hour');
    expect(series.from).toBe(Date.UTC(2024, 0, 1, 10));
    expect(series.points.map((p) => p.count)).toEqual([0, 4, 0, 1]);
    expect(series).toMatchObject({ total: 5, average: 1.25, p95: 4, peak: { start: Date.UTC(2024, 0, 1, 11), count: 4 } });
  });

  it(`refuses more than ${MAX_BUCKETS} buckets, naming the bucket argument`, () => {
    expect(bucketRange(0, MAX_BUCKETS * MIN, 'minute').count).toBe(MAX_BUCKETS);
    expect(fieldOf(() => bucketRange(0, MAX_BUCKETS * MIN + 1, 'minute'))).toBe('bucket');
    expect(fieldOf(() => bucketRange(10, 10, 'hour'))).toBe('to');
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 95)).toBe(0);
    expect(percentile([5], 95)).toBe(5);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
    expect(percentile([3, 1, 2], 50)).toBe(2);
  });
});

describe('summaries and heatmaps', () => {
  it('orders types and sources by count then name, lists every level, and keeps unknown types out of byType', () => {
    const summary = toDaySummary('2024-01-07', [
      { dimension: 'total', key: '*', count: 6 },
      { dimension: 'type', key: 'payment_failed', count: 2 },
      { dimension: 'type', key: 'order_created', count: 2 },
      { dimension: 'type', key: 'renamed_type', count: 2 },
      { dimension: 'source', key: 'b', count: 1 },
      { dimension: 'source', key: 'a', count: 5 },
      { dimension: 'level', key: 'LOW', count: 6 },
    ]);
    expect(summary.total).toBe(6);
    expect(summary.byType).toEqual([{ type: 'order_created', count: 2 }, { type: 'payment_failed', count: 2 }]);
    expect(summary.bySource).toEqual([{ source: 'a', count: 5 }, { source: 'b', count: 1 }]);
    expect(summary.byLevel.map((l) => l.count)).toEqual([0, 0, 0, 6]);
  });

  it('builds a dense 7x24 matrix and ignores out-of-range cells', () => {
    const heatmap = toHeatmap('u', 0, [{ weekday: 0, hour: 23, count: 2 }, { weekday: 6, hour: 0, count: 1 }, { weekday: 7, hour: 1, count: 9 }, { weekday: 1, hour: 24, count: 9 }]);
    expect(heatmap.matrix).toHaveLength(7);
    expect(heatmap.matrix.every((row) => row.length === 24)).toBe(true);
    expect(heatmap.matrix[0]![23]).toBe(2);
    expect(heatmap.matrix[6]![0]).toBe(1);
    expect(heatmap.total).toBe(3);
  });
});

describe('argument checks', () => {
  it('accepts real UTC days only', () => {
    expect(parseDay('2024-02-29', 'date')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of ['2023-02-29', '2024-1-7', 'today', '2024-01-07T00:00:00Z']) expect(fieldOf(() => parseDay(bad, 'date'))).toBe('date');
  });

  it('bounds integers and ranges', () => {
    expect(intInRange(5, 1, 10, 'hours')).toBe(5);
    expect(fieldOf(() => intInRange(1.5, 1, 10, 'hours'))).toBe('hours');
    expect(fieldOf(() => intInRange(11, 1, 10, 'days'))).toBe('days');
    expect(() => checkRange(undefined, 5)).not.toThrow();
    expect(fieldOf(() => checkRange(5, 5))).toBe('to');
  });
});

describe('error recorder', () => {
  const memoryStore = () => {
    const batches: ErrorInput[][] = [];
    const store: ErrorStore = {
      record: async (errors) => void batches.push([...errors]),
      countSince: async () => [],
      latest: async () => [],
      purgeBefore: async () => 0,
    };
    return { store, batches };
  };

  it('writes the failures reported in one turn as one batch, stamped with the time', async () => {
    const { store, batches } = memoryStore();
    const recorder = createErrorRecorder({ store, now: () => 1000 });
    recorder.record({ kind: 'delivery', source: 'webhooks', message: 'HTTP 503' });
    recorder.record({ kind: 'validation', source: 'orders', message: 'bad', field: 'data.x', at: 5 });
    await recorder.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((e) => [e.kind, e.at, e.field])).toEqual([['delivery', 1000, null], ['validation', 5, 'data.x']]);
  });

  it('caps free text and details, and never throws on unserializable details', () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    const long = normalizeReport({ kind: 'processing', source: 's'.repeat(500), message: 'm'.repeat(5000), details: { blob: 'x'.repeat(10_000) } }, 1);
    expect(long.message).toHaveLength(1000);
    expect(long.source).toHaveLength(200);
    expect(long.details).toEqual({ truncated: true, size: expect.any(Number) });
    expect(normalizeReport({ kind: 'processing', source: null, message: 'x', details: circular }, 1).details).toEqual({ unserializable: true });
  });

  it('drops reports beyond the backlog and reports store failures instead of throwing', async () => {
    const onFailure = vi.fn();
    let release!: () => void;
    const store: ErrorStore = {
      record: () => new Promise<void>((resolve) => (release = resolve)),
      countSince: async () => [],
      latest: async () => [],
      purgeBefore: async () => 0,
    };
    const recorder = createErrorRecorder({ store, maxPending: 2, onFailure });
    for (let i = 0; i < 3; i++) recorder.record({ kind: 'delivery', source: null, message: String(i) });
    expect(onFailure).toHaveBeenCalledTimes(1);
    expect(onFailure.mock.calls[0]![1]).toBe(1);
    const flushed = recorder.flush();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await flushed;

    const failing = createErrorRecorder({ store: { ...store, record: async () => Promise.reject(new Error('down')) }, onFailure });
    failing.record({ kind: 'delivery', source: null, message: 'x' });
    await failing.flush();
    expect(onFailure).toHaveBeenLastCalledWith(expect.any(Error), 1);
  });
});

describe('export encoding', () => {
  const cursors = createCursorCodec('k3v9x2mq');
  const event: HeraldEvent = {
    id: 'evt_1' as EventId,
    seq: 42,
    type: 'order_ready',
    level: 'HIGH',
    userId: null,
    roles: ['customer', 'supplier'],
    source: 'orders',
    timestamp: Date.UTC(2024, 0, 7, 10, 30),
    data: { note: 'a "quoted", comma\nline' },
    deliveryId: null,
    idempotencyKey: null,
  };

  it('quotes CSV cells only when needed, doubling quotes, and leaves null cells empty', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
    expect(csvRow(toExportRecord(event, cursors))).toBe(
      `evt_1,k3v9x2mq-42,order_ready,HIGH,,customer|supplier,orders,2024-01-07T10:30:00.000Z,"{""note"":""a \\""quoted\\"", comma\\nline""}"\r\n`,
    );
  });

  it('produces a valid JSON array across pages and one line per record in NDJSON', () => {
    const json = exportEncoding('json', cursors);
    const text = json.head + json.page([event, { ...event, seq: 43 }], true) + json.page([{ ...event, seq: 44 }], false) + json.tail;
    expect((JSON.parse(text) as { cursor: string }[]).map((r) => r.cursor)).toEqual(['k3v9x2mq-42', 'k3v9x2mq-43', 'k3v9x2mq-44']);
    expect(JSON.parse(json.head + json.tail)).toEqual([]);
    const ndjson = exportEncoding('ndjson', cursors);
    expect(ndjson.page([event, event], true).split('\n')).toHaveLength(3);
  });
});
