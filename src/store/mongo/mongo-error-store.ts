/** `event_errors` on MongoDB: one document per recorded failure; counts with one `$sum` per `$group`. */
import { ObjectId, type Db, type IndexDescription } from 'mongodb';
import type { ErrorKind, ErrorStore, RecordedError } from '../../analytics/error-store.js';
import { ensureIndexes, type ErrorGuard } from './driver.js';

export const ERRORS_COLLECTION = 'event_errors';

interface ErrorDoc {
  _id: ObjectId;
  at: Date;
  kind: string;
  source: string | null;
  message: string;
  field: string | null;
  eventId: string | null;
  endpointId: string | null;
  /** JSON text: details may hold keys (`a.b`, `$x`) FerretDB refuses in documents. */
  details: string | null;
}

const INDEXES: readonly IndexDescription[] = [{ key: { at: 1 }, name: 'at_1' }];

const toRecorded = (doc: ErrorDoc): RecordedError => ({
  id: doc._id.toHexString(),
  at: doc.at.getTime(),
  kind: doc.kind as ErrorKind,
  source: doc.source ?? null,
  message: doc.message,
  field: doc.field ?? null,
  eventId: doc.eventId ?? null,
  endpointId: doc.endpointId ?? null,
  details: doc.details ? (JSON.parse(doc.details) as Record<string, unknown>) : null,
});

/** Creates the index (idempotent) and returns the store; `failures` is the event log's guard (no URL in messages). */
export async function createMongoErrorStore(db: Db, failures: ErrorGuard): Promise<ErrorStore> {
  const errors = db.collection<ErrorDoc>(ERRORS_COLLECTION);
  await ensureIndexes(errors, INDEXES);
  const guard = failures.scoped('event_errors').run;
  return {
    record: (batch) =>
      guard('record', async () => {
        if (batch.length === 0) return;
        await errors.insertMany(
          batch.map((e) => ({
            _id: new ObjectId(),
            at: new Date(e.at),
            kind: e.kind,
            source: e.source,
            message: e.message,
            field: e.field ?? null,
            eventId: e.eventId ?? null,
            endpointId: e.endpointId ?? null,
            details: e.details ? JSON.stringify(e.details) : null,
          })),
          { ordered: true },
        );
      }),
    countSince: (since, by) =>
      guard('count', async () => {
        const rows = await errors
          .aggregate<{ _id: string | null; count: number }>([
            { $match: { at: { $gte: new Date(since) } } },
            { $group: { _id: `$${by}`, count: { $sum: 1 } } },
          ])
          .toArray();
        return rows.map((r) => ({ key: r._id ?? null, count: Number(r.count) }));
      }),
    latest: (since, limit) =>
      guard('latest', async () =>
        (await errors.find({ at: { $gte: new Date(since) } }).sort({ at: -1, _id: -1 }).limit(limit).toArray()).map(toRecorded),
      ),
    purgeBefore: (before) => guard('purge', async () => (await errors.deleteMany({ at: { $lt: new Date(before) } })).deletedCount),
  };
}
