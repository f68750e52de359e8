/**
 * Writes one batch of the event log (the group commit hands batches over one at a time per process). Keys already
 * stored, or earlier in the batch, are answered with the stored event instead of being written again. The rest
 * reserve a seq range and go in with one ordered `insertMany`; when a document is refused the insert stops there:
 *
 * - a duplicate key or id (another writer stored that event first) is answered with the stored event, and the
 *   documents after it are written;
 * - a taken seq (neither the key nor the id exists) means another writer holds that position, a reader closed it
 *   as abandoned (its marker won the unique index, docs/cursors.md), or the counter is behind the log: the counter
 *   is realigned and the rest, the refused document first, retried at fresh positions; after MAX_RESYNCS such
 *   retries the whole batch fails;
 * - any other refusal fails that event's own call only.
 *
 * So an event is never committed at a position a reader has closed: the unique index on `seq` decides, not the
 * counter.
 */
import type { Collection } from 'mongodb';
import type { AppendResult } from '../../events/event-store.js';
import type { HeraldEvent, NewEvent } from '../../events/model.js';
import { StoreError } from '../../errors.js';
import { isDuplicateKey, partialWrite } from './driver.js';
import { toEvent, toEventFrom, type EventDoc, type NewEventDoc } from './event-docs.js';
import type { Outcome } from './group-commit.js';
import { reserveSeqs, syncCounter, type CounterDoc } from './seq-counter.js';

/** Retries of a batch whose positions were taken before it committed. */
const MAX_RESYNCS = 16;

/** One event to append, with its document built (and checked) before it was queued. */
export interface BatchItem {
  readonly event: NewEvent;
  readonly doc: NewEventDoc;
}

/** Writes a batch; one outcome per item, in order. Throws only when the batch as a whole failed. */
export type BatchWriter = (items: readonly BatchItem[]) => Promise<Outcome<AppendResult>[]>;

/** The batch writer of one `event_logs` collection and its seq counter. */
export function createBatchWriter(events: Collection<EventDoc>, counters: Collection<CounterDoc>): BatchWriter {
  return async (items) => {
    const outcomes: (Outcome<AppendResult> | undefined)[] = new Array(items.length);
    const firstWithKey = new Map<string, number>();
    const aliasOf = new Map<number, number>();
    const keys = [...new Set(items.flatMap((item) => item.doc.idempotencyKey ?? []))];
    const stored = new Map<string, HeraldEvent>();
    if (keys.length > 0) {
      for (const doc of await events.find({ idempotencyKey: { $in: keys } }).toArray()) {
        stored.set(doc.idempotencyKey!, toEvent(doc));
      }
    }

    const toInsert: number[] = [];
    items.forEach((item, i) => {
      const key = item.doc.idempotencyKey;
      const existing = key === undefined ? undefined : stored.get(key);
      if (existing) outcomes[i] = { event: existing, duplicate: true };
      else if (key !== undefined && firstWithKey.has(key)) aliasOf.set(i, firstWithKey.get(key)!);
      else {
        if (key !== undefined) firstWithKey.set(key, i);
        toInsert.push(i);
      }
    });

    let pending = toInsert;
    let resyncs = 0;
    while (pending.length > 0) {
      const first = await reserveSeqs(counters, pending.length);
      const docs: EventDoc[] = pending.map((i, n) => ({ ...items[i]!.doc, seq: first + n }));
      const inserted = await insertOrdered(events, docs);
      for (let n = 0; n < inserted.count; n++) {
        outcomes[pending[n]!] = { event: toEventFrom(items[pending[n]!]!.event, docs[n]!.seq), duplicate: false };
      }
      if (!inserted.error) break;
      const failedAt = pending[inserted.count]!;
      const rest = pending.slice(inserted.count + 1);
      if (!inserted.error.duplicateKey) {
        outcomes[failedAt] = { error: inserted.error.cause };
        pending = rest;
        continue;
      }
      const winner = await findConflicting(events, items[failedAt]!.doc);
      if (winner) {
        outcomes[failedAt] = { event: winner, duplicate: true };
        pending = rest;
      } else {
        // Neither the key nor the id exists, so the seq does: another writer took it (FerretDB's $inc is not
        // atomic across connections), a reader closed it as abandoned (docs/cursors.md), or the counter is behind
        // the log (restored backup). Realign and retry with fresh seqs; a later position is always safe.
        if (++resyncs > MAX_RESYNCS) throw new StoreError('MongoDB event log: seq counter is behind the log', { cause: inserted.error });
        await syncCounter(events, counters);
        pending = pending.slice(inserted.count);
      }
    }

    for (const [i, original] of aliasOf) {
      const target = outcomes[original]!;
      outcomes[i] = 'error' in target ? target : { event: target.event, duplicate: true };
    }
    return outcomes as Outcome<AppendResult>[];
  };
}

interface WriteFailure {
  readonly duplicateKey: boolean;
  readonly cause: unknown;
}

/** Ordered insert: on a per-document error, reports how many went in before it. */
async function insertOrdered(
  events: Collection<EventDoc>,
  docs: EventDoc[],
): Promise<{ count: number; error?: WriteFailure }> {
  try {
    await events.insertMany(docs, { ordered: true });
    return { count: docs.length };
  } catch (error) {
    const failure = partialWrite(error);
    const first = failure?.writeErrors[0];
    if (!first || failure.writeConcernError !== undefined) throw error;
    return { count: first.index, error: { duplicateKey: isDuplicateKey(first), cause: error } };
  }
}

/** The stored event that made an insert fail: same idempotency key, else same id. */
async function findConflicting(events: Collection<EventDoc>, doc: NewEventDoc): Promise<HeraldEvent | null> {
  if (doc.idempotencyKey !== undefined) {
    const byKey = await events.findOne({ idempotencyKey: doc.idempotencyKey });
    if (byKey) return toEvent(byKey);
  }
  const byId = await events.findOne({ _id: doc._id });
  return byId ? toEvent(byId) : null;
}
