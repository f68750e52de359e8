/**
 * The log's epoch on MongoDB (src/events/cursor.ts): one document `{ _id: 'log', epoch }` in `log_meta`, inserted by
 * whichever instance opens a fresh database first. The unique `_id` is the arbiter (FerretDB has no atomic
 * read-modify-write across connections, but its `_id` is unique): a second instance's insert fails with a duplicate
 * key and it reads the winner's epoch, so every instance writing one log hands out cursors of the same epoch.
 */
import type { Db } from 'mongodb';
import { StoreError } from '../../errors.js';
import { isLogEpoch, newLogEpoch } from '../../events/cursor.js';
import { isDuplicateKey } from './driver.js';

export const LOG_META_COLLECTION = 'log_meta';

interface LogMetaDoc {
  _id: string;
  epoch: string;
}

/** The epoch of the log in `db`, choosing it when the log has none yet. */
export async function logEpoch(db: Db): Promise<string> {
  const meta = db.collection<LogMetaDoc>(LOG_META_COLLECTION);
  const stored = await meta.findOne({ _id: 'log' });
  if (stored) return checked(stored.epoch);
  const epoch = newLogEpoch();
  try {
    await meta.insertOne({ _id: 'log', epoch });
    return epoch;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const winner = await meta.findOne({ _id: 'log' });
    if (!winner) throw new StoreError('MongoDB event log: the log epoch vanished while it was being chosen');
    return checked(winner.epoch);
  }
}

function checked(epoch: unknown): string {
  if (!isLogEpoch(epoch)) throw new StoreError(`MongoDB event log: ${LOG_META_COLLECTION} holds no valid epoch; restore it or drop that document to start a new log epoch`);
  return epoch;
}
