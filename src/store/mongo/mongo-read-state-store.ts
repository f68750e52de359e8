/**
 * Notification read state on MongoDB, shared by every instance on the database: `notification_readers` (one
 * document per reader, `_id` = reader key) and `notification_marks` (one per marked event, `_id` = reader key +
 * event id). Positions only move forward through `$max`: atomic on MongoDB, however writes interleave. FerretDB v1
 * applies `$max` as a read-modify-write (see STACK.md), so two devices of one user advancing in the same instant may
 * keep the smaller position (the user marks all read again; nothing of anyone else's is touched). Without
 * transactions, `advance` writes the reader first and then drops the marks it made redundant: a crash between the
 * two leaves marks that the positions already override for `read` (dropped by the next `advance`), except that an
 * unread-again mark at or before the new `readThrough` would count until then.
 */
import type { Db } from 'mongodb';
import type { EventId, LogPosition } from '../../events/model.js';
import type { NotificationMark, ReaderKey, ReadStateStore } from '../../notifications/read-state-store.js';
import { EMPTY_READ_STATE } from '../../notifications/read-state-store.js';
import { createErrorGuard, ensureIndexes } from './driver.js';

export const READERS_COLLECTION = 'notification_readers';
export const MARKS_COLLECTION = 'notification_marks';

interface ReaderDoc {
  _id: string;
  readThrough?: number;
  clearedThrough?: number;
  updatedAt: number;
}

interface MarkDoc {
  _id: string;
  reader: string;
  eventId: string;
  position: number;
  ts: number;
  read?: boolean | null;
  archived?: boolean;
}

const toMark = (doc: MarkDoc): NotificationMark => ({
  eventId: doc.eventId as EventId,
  position: doc.position as LogPosition,
  timestamp: doc.ts,
  read: doc.read ?? null,
  archived: doc.archived ?? false,
});

export async function createMongoReadStateStore(db: Db): Promise<ReadStateStore> {
  const readers = db.collection<ReaderDoc>(READERS_COLLECTION);
  const marks = db.collection<MarkDoc>(MARKS_COLLECTION);
  await ensureIndexes(readers, [{ key: { updatedAt: 1 }, name: 'updatedAt_1' }]);
  await ensureIndexes(marks, [
    { key: { reader: 1, position: 1 }, name: 'reader_1_position_1' },
    { key: { ts: 1 }, name: 'ts_1' },
  ]);
  const guard = createErrorGuard('MongoDB read state').run;

  return {
    get: (key) =>
      guard('get', async () => {
        const doc = await readers.findOne({ _id: key });
        return doc
          ? { readThrough: (doc.readThrough ?? null) as LogPosition | null, clearedThrough: (doc.clearedThrough ?? null) as LogPosition | null, updatedAt: doc.updatedAt }
          : EMPTY_READ_STATE;
      }),
    marksAfter: (key, after) =>
      guard('marks', async () => (await marks.find({ reader: key, position: { $gt: after ?? -1 } }).toArray()).map(toMark)),
    mark: (key, changes, updatedAt) =>
      guard('mark', async () => {
        if (changes.length) {
          await marks.bulkWrite(
            changes.map((change) => ({
              updateOne: {
                filter: { _id: `${key}\n${change.eventId}` },
                update: {
                  $set: {
                    reader: key,
                    eventId: change.eventId,
                    position: change.position,
                    ts: change.timestamp,
                    ...(change.read === undefined ? {} : { read: change.read }),
                    ...(change.archived === undefined ? {} : { archived: change.archived }),
                  },
                },
                upsert: true,
              },
            })),
            { ordered: false },
          );
        }
        await readers.updateOne({ _id: key }, { $max: { updatedAt } }, { upsert: true });
      }),
    advance: (key, { readThrough, clearedThrough }, updatedAt) =>
      guard('advance', async () => {
        const positions: Record<string, number> = { updatedAt };
        if (readThrough !== undefined) positions['readThrough'] = readThrough;
        if (clearedThrough !== undefined) positions['clearedThrough'] = clearedThrough;
        await readers.updateOne({ _id: key }, { $max: positions }, { upsert: true });
        const doc = await readers.findOne({ _id: key });
        if (doc?.clearedThrough !== undefined) await marks.deleteMany({ reader: key, position: { $lte: doc.clearedThrough } });
        if (doc?.readThrough !== undefined) {
          await marks.deleteMany({ reader: key, position: { $lte: doc.readThrough }, archived: { $ne: true } });
          await marks.updateMany({ reader: key, position: { $lte: doc.readThrough } }, { $set: { read: null } });
        }
      }),
    changedSince: (since) =>
      guard('changes', async () =>
        (await readers.find({ updatedAt: { $gte: since } }, { projection: { updatedAt: 1 } }).toArray()).map((doc) => ({ key: doc._id as ReaderKey, updatedAt: doc.updatedAt })),
      ),
    purgeBefore: (before) => guard('purge', async () => (await marks.deleteMany({ ts: { $lt: before } })).deletedCount),
  };
}
