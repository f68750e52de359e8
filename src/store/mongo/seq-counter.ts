/**
 * Log positions (`seq`) on MongoDB: the `counters` document `{ _id: 'event_seq', value }` holds the last seq handed
 * out, and a batch reserves its range with one `$inc`. The counter is only a hint: FerretDB's `$inc` is not atomic
 * across connections and a restored backup can leave it behind the log, so the unique index on `seq` is what
 * decides (see batch-writer.ts), and `syncCounter` moves the counter up to the log when they disagree.
 */
import type { Collection } from 'mongodb';
import { StoreError } from '../../errors.js';
import { isDuplicateKey } from './driver.js';
import type { EventDoc } from './event-docs.js';

export interface CounterDoc {
  _id: string;
  value: number;
}

const SEQ_COUNTER = 'event_seq';

/**
 * An upsert of the counter document: two instances starting on a fresh database can both try to insert it, and
 * the loser gets a duplicate key on `_id`; the document exists then, so the same update is retried once.
 */
async function upserting<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    return write();
  }
}

/** Reserves `n` consecutive seqs; returns the first. */
export async function reserveSeqs(counters: Collection<CounterDoc>, n: number): Promise<number> {
  const doc = await upserting(() => counters.findOneAndUpdate({ _id: SEQ_COUNTER }, { $inc: { value: n } }, { upsert: true, returnDocument: 'after' }));
  if (!doc) throw new StoreError('MongoDB event log: seq counter upsert returned nothing');
  return Number(doc.value) - n + 1;
}

/** Moves the counter up to the highest stored seq (never down). */
export async function syncCounter(events: Collection<EventDoc>, counters: Collection<CounterDoc>): Promise<void> {
  const top = await maxSeq(events);
  await upserting(() => counters.updateOne({ _id: SEQ_COUNTER }, { $max: { value: top } }, { upsert: true }));
}

/** The highest seq reserved so far, also once retention has purged it from the log; 0 before the first. */
export async function highestReserved(counters: Collection<CounterDoc>): Promise<number> {
  const counter = await counters.findOne({ _id: SEQ_COUNTER });
  return Number(counter?.value ?? 0);
}

/** The highest seq in the log (abandoned-position markers included); 0 when it is empty. */
export async function maxSeq(events: Collection<EventDoc>): Promise<number> {
  const [top] = await events.find({}, { projection: { seq: 1 } }).sort({ seq: -1 }).limit(1).toArray();
  return top ? Number(top.seq) : 0;
}
