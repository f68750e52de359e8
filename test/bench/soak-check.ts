/**
 * The soak run's verdict, computed from ids alone: what publishers were told (acknowledged events), what the log
 * holds afterwards (read back by an admin), what each subscriber received in arrival order, and what each webhook
 * receiver accepted. No I/O here, so the rules can be read in one place:
 * - every acknowledged event is in the log, at the position its answer named; no idempotency key twice;
 * - every subscriber received every event it may see after the start cursor exactly once, in log order, and
 *   nothing it may not see;
 * - every webhook-matching event was accepted by its endpoint's receiver at least once (a second delivery of an
 *   attempt in flight at a crash is allowed and reported), and nothing that does not match.
 */
import { maySee, webhookMatches, type AckedEvent } from './soak-model.js';
import type { SubscriberRecord } from './soak-subscribers.js';
import type { EndpointRecord } from './soak-webhooks.js';

export interface LogEntry {
  readonly id: string;
  readonly seq: number;
}

export interface SubscriberVerdict {
  readonly name: string;
  readonly expected: number;
  readonly received: number;
  readonly gaps: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  /** Received, but not an acknowledged event this viewer may see (a leak, or an event nobody was told about). */
  readonly unexpected: number;
}

export interface WebhookVerdict {
  readonly ownerId: string;
  readonly expected: number;
  readonly delivered: number;
  readonly missing: number;
  /** Events accepted more than once (allowed after a crash, reported). */
  readonly duplicated: number;
  readonly unexpected: number;
  readonly badSignatures: number;
}

export interface Verdict {
  readonly acknowledged: number;
  /** Acknowledged events the log does not hold. */
  readonly lost: number;
  /** Acknowledged events the log holds at another position than the answer's cursor. */
  readonly moved: number;
  /** Ids acknowledged for two different keys, or keys acknowledged twice. */
  readonly ackConflicts: number;
  /** Soak events in the log that no publisher was told about (a second copy of a retried request). */
  readonly unacknowledgedInLog: number;
  readonly subscribers: readonly SubscriberVerdict[];
  readonly webhooks: readonly WebhookVerdict[];
}

export function judge(input: { acked: readonly AckedEvent[]; log: readonly LogEntry[]; startSeq: number; subscribers: readonly SubscriberRecord[]; endpoints: readonly EndpointRecord[] }): Verdict {
  const logById = new Map(input.log.map((e) => [e.id, e]));
  const ackedById = new Map<string, AckedEvent>();
  const keys = new Set<string>();
  let ackConflicts = 0;
  for (const event of input.acked) {
    if (ackedById.has(event.id) || keys.has(event.key)) ackConflicts++;
    ackedById.set(event.id, event);
    keys.add(event.key);
  }
  let lost = 0;
  let moved = 0;
  for (const event of input.acked) {
    const logged = logById.get(event.id);
    if (!logged) lost++;
    else if (logged.seq !== event.seq) moved++;
  }
  const unacknowledgedInLog = input.log.filter((e) => e.seq > input.startSeq && !ackedById.has(e.id)).length;
  // Log order is position order; subscribers must see their share of it in that order.
  const inOrder = [...input.acked].filter((e) => e.seq > input.startSeq).sort((a, b) => a.seq - b.seq);

  const subscribers = input.subscribers.map((s): SubscriberVerdict => {
    const expected = new Set(inOrder.filter((e) => maySee(s.viewer, e)).map((e) => e.id));
    const seen = new Map<string, number>();
    let outOfOrder = 0;
    let previous = -Infinity;
    for (const receipt of s.receipts) {
      seen.set(receipt.id, (seen.get(receipt.id) ?? 0) + 1);
      if (receipt.seq <= previous) outOfOrder++;
      previous = Math.max(previous, receipt.seq);
    }
    let gaps = 0;
    for (const id of expected) if (!seen.has(id)) gaps++;
    let duplicates = 0;
    let unexpected = 0;
    for (const [id, n] of seen) {
      duplicates += n - 1;
      if (!expected.has(id)) unexpected++;
    }
    return { name: s.name, expected: expected.size, received: s.receipts.length, gaps, duplicates, outOfOrder, unexpected };
  });

  const webhooks = input.endpoints.map((endpoint): WebhookVerdict => {
    const expected = new Set(inOrder.filter((e) => webhookMatches(endpoint.ownerId, e)).map((e) => e.id));
    let missing = 0;
    for (const id of expected) if (!endpoint.accepted.has(id)) missing++;
    let duplicated = 0;
    let unexpected = 0;
    for (const [id, n] of endpoint.accepted) {
      if (n > 1) duplicated++;
      if (!expected.has(id)) unexpected++;
    }
    return { ownerId: endpoint.ownerId, expected: expected.size, delivered: endpoint.accepted.size, missing, duplicated, unexpected, badSignatures: endpoint.badSignatures.length };
  });

  return { acknowledged: input.acked.length, lost, moved, ackConflicts, unacknowledgedInLog, subscribers, webhooks };
}

/** Why the run failed, one line per broken promise; empty when it passed. */
export function failures(verdict: Verdict): string[] {
  const out: string[] = [];
  const sum = <T>(rows: readonly T[], f: (row: T) => number) => rows.reduce((s, r) => s + f(r), 0);
  if (verdict.acknowledged === 0) out.push('no event was acknowledged');
  if (verdict.lost) out.push(`${verdict.lost} acknowledged events are not in the log`);
  if (verdict.moved) out.push(`${verdict.moved} acknowledged events are in the log at another position than their cursor`);
  if (verdict.ackConflicts) out.push(`${verdict.ackConflicts} acknowledgements reuse an id or a key`);
  if (verdict.unacknowledgedInLog) out.push(`${verdict.unacknowledgedInLog} soak events in the log were never acknowledged (a duplicate of a retried request?)`);
  const s = verdict.subscribers;
  for (const [what, n] of [
    ['gaps', sum(s, (r) => r.gaps)],
    ['duplicates', sum(s, (r) => r.duplicates)],
    ['out-of-order receipts', sum(s, (r) => r.outOfOrder)],
    ['unexpected receipts', sum(s, (r) => r.unexpected)],
  ] as const) {
    if (n) out.push(`subscribers: ${n} ${what}`);
  }
  const w = verdict.webhooks;
  if (sum(w, (r) => r.missing)) out.push(`webhooks: ${sum(w, (r) => r.missing)} matching events never delivered`);
  if (sum(w, (r) => r.unexpected)) out.push(`webhooks: ${sum(w, (r) => r.unexpected)} deliveries of events that do not match`);
  if (sum(w, (r) => r.badSignatures)) out.push(`webhooks: ${sum(w, (r) => r.badSignatures)} deliveries failed signature verification`);
  return out;
}
