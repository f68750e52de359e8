/**
 * What the fan-out benchmark's three kinds of process share (test/bench/fanout.ts drives, fanout-load.ts
 * receives, fanout-raw.ts is the baseline server): the subscription, how a publish carries its send time to the
 * receiver, a fixed-size latency histogram that merges across processes, and the IPC request/answer helper.
 * Nothing here imports `src/`, so the load side measures the wire and nothing else.
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** The subscription every benchmark connection holds (the README tour's, restricted to order_created). */
export const SUBSCRIPTION_QUERY =
  'subscription { events(types: [ORDER_CREATED]) { __typename id type level userId timestamp cursor ... on OrderCreatedEvent { orderId amount currency } } }';

/** Wall-clock ms with sub-ms precision, comparable across processes of this machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/**
 * Every published event carries `data.orderId = ord_<phase>.<seq>_<sent ms>`: the receiver reads the phase (so a
 * straggler from an earlier phase is never counted in a later one) and the publisher's send time from it.
 * Phase 0 is the warm-up probe.
 */
export const encodeOrderId = (phase: number, seq: number, sentAt: number): string => `ord_${phase}.${seq}_${sentAt.toFixed(3)}`;

/** The bytes that precede the order id in both Herald's frames and the raw baseline's. */
export const ORDER_ID_KEY = Buffer.from('"orderId":"ord_');

/** Parses the part of an order id after `ord_` (latin1 text); undefined when it is not one of ours. */
export function decodeOrderId(text: string): { phase: number; seq: number; sentAt: number } | undefined {
  const dot = text.indexOf('.');
  const underscore = text.indexOf('_', dot);
  if (dot < 1 || underscore < 0) return undefined;
  const phase = Number(text.slice(0, dot));
  const seq = Number(text.slice(dot + 1, underscore));
  const sentAt = Number(text.slice(underscore + 1));
  return Number.isInteger(phase) && Number.isInteger(seq) && seq >= 0 && Number.isFinite(sentAt) ? { phase, seq, sentAt } : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Latency histogram: 10 µs steps below 10 ms, 0.5 ms below 1 s, 10 ms below 120 s, then one overflow bucket.
// Fixed size (about 15k counters), so 10 million deliveries cost no more memory than ten.

const TIERS = [
  { upTo: 10, step: 0.01 },
  { upTo: 1000, step: 0.5 },
  { upTo: 120_000, step: 10 },
] as const;
const TIER_START: number[] = [];
let bucketCount = 0;
{
  let from = 0;
  for (const tier of TIERS) {
    TIER_START.push(bucketCount);
    bucketCount += Math.round((tier.upTo - from) / tier.step);
    from = tier.upTo;
  }
}
export const HISTOGRAM_BUCKETS = bucketCount + 1;

function bucketOf(ms: number): number {
  let from = 0;
  for (let t = 0; t < TIERS.length; t++) {
    const tier = TIERS[t]!;
    if (ms < tier.upTo) return TIER_START[t]! + Math.floor((Math.max(0, ms) - from) / tier.step);
    from = tier.upTo;
  }
  return HISTOGRAM_BUCKETS - 1;
}

/** The middle of bucket `b` in ms (the overflow bucket reports its lower edge). */
function valueOf(b: number): number {
  let from = 0;
  for (let t = 0; t < TIERS.length; t++) {
    const tier = TIERS[t]!;
    const next = t + 1 < TIERS.length ? TIER_START[t + 1]! : HISTOGRAM_BUCKETS - 1;
    if (b < next) return from + (b - TIER_START[t]! + 0.5) * tier.step;
    from = tier.upTo;
  }
  return TIERS[TIERS.length - 1]!.upTo;
}

export class Histogram {
  readonly counts = new Uint32Array(HISTOGRAM_BUCKETS);
  total = 0;
  max = 0;

  record(ms: number): void {
    this.counts[bucketOf(ms)]!++;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  /** Sparse form for IPC: [bucket, count] pairs. */
  toJSON(): { buckets: [number, number][]; total: number; max: number } {
    const buckets: [number, number][] = [];
    for (let b = 0; b < this.counts.length; b++) if (this.counts[b]) buckets.push([b, this.counts[b]!]);
    return { buckets, total: this.total, max: this.max };
  }

  merge(sparse: { buckets: [number, number][]; total: number; max: number }): void {
    for (const [b, n] of sparse.buckets) this.counts[b]! += n;
    this.total += sparse.total;
    if (sparse.max > this.max) this.max = sparse.max;
  }

  /** The p-th percentile in ms; NaN when empty. */
  percentile(p: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return b === HISTOGRAM_BUCKETS - 1 ? this.max : Math.min(valueOf(b), this.max);
    }
    return this.max;
  }
}

// ---------------------------------------------------------------------------------------------------------
// IPC: `{ id, cmd, ... }` requests, `{ id, ... }` answers; unsolicited messages carry no id.

export interface IpcRequest {
  readonly cmd: string;
  readonly [key: string]: unknown;
}

let nextRequestId = 1;

/** Sends `request` to `child` and resolves with its answer; rejects after `timeoutMs` or if the child exits. */
export function ask<T>(child: ChildProcess, request: IpcRequest, timeoutMs = 60_000): Promise<T> {
  const id = nextRequestId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${request.cmd}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: { id?: number }) => {
      if (message?.id === id) done(undefined, message as T);
    };
    const onExit = () => done(new Error(`${request.cmd}: the child exited`));
    function done(error: Error | undefined, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ ...request, id });
  });
}

/** Answers requests in a child: `handler` returns the answer's fields (the id is added). */
export function answerRequests(handler: (request: IpcRequest) => Promise<Record<string, unknown>> | Record<string, unknown> | undefined): void {
  process.on('message', (message: IpcRequest & { id?: number }) => {
    if (message?.id === undefined) return;
    void Promise.resolve()
      .then(() => handler(message))
      .then(
        (answer) => answer && process.send?.({ ...answer, id: message.id }),
        (error: unknown) => process.send?.({ id: message.id, error: (error as Error).message ?? String(error) }),
      );
  });
}
