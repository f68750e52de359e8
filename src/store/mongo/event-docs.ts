/**
 * The event log's documents: how an event is stored in `event_logs` (with the UTC time buckets analytics group
 * by), read back, and found (an `EventFilter` as a query). Also the marker that closes an abandoned position
 * (docs/cursors.md): it holds a `seq` in the unique index and carries no event fields, so every read leaves it out.
 */
import type { Filter } from 'mongodb';
import type { EventLevel, EventTypeName, Role } from '../../events/catalogue.js';
import type { EventFilter } from '../../events/event-store.js';
import type { EventId, HeraldEvent, NewEvent } from '../../events/model.js';
import { timeBuckets } from '../time-buckets.js';

export interface EventDoc {
  _id: string;
  seq: number;
  type: string;
  level: string;
  userId: string | null;
  roles: string[];
  source: string;
  timestamp: Date;
  data: Record<string, unknown>;
  deliveryId: string | null;
  /** Absent (not null) when the event has no key, so the unique index skips it. */
  idempotencyKey?: string;
  day: string;
  hour: number;
  weekday: number;
  /** Set only on the marker of an abandoned position (no event fields): reads leave it out. */
  abandoned?: true;
}

/** An event's document before its batch reserves its `seq`. */
export type NewEventDoc = Omit<EventDoc, 'seq'>;

/** The document of a new event, without its `seq` (reserved when its batch is written). */
export function toDoc(event: NewEvent): NewEventDoc {
  const doc: NewEventDoc = {
    _id: event.id,
    type: event.type,
    level: event.level,
    userId: event.userId,
    roles: [...event.roles],
    source: event.source,
    timestamp: new Date(event.timestamp),
    data: { ...event.data },
    deliveryId: event.deliveryId,
    ...timeBuckets(event.timestamp),
  };
  if (event.idempotencyKey !== null) doc.idempotencyKey = event.idempotencyKey;
  return doc;
}

/** The event as stored at `seq`, built from what was appended (no read back). */
export function toEventFrom(event: NewEvent, seq: number): HeraldEvent {
  return {
    id: event.id,
    seq,
    type: event.type,
    level: event.level,
    userId: event.userId,
    roles: [...event.roles],
    source: event.source,
    timestamp: event.timestamp,
    data: event.data,
    deliveryId: event.deliveryId,
    idempotencyKey: event.idempotencyKey,
  };
}

/** A stored document as an event (tolerant of fields missing in old documents). */
export function toEvent(doc: EventDoc): HeraldEvent {
  return {
    id: doc._id as EventId,
    seq: Number(doc.seq),
    type: doc.type as EventTypeName,
    level: doc.level as EventLevel,
    userId: doc.userId ?? null,
    roles: (doc.roles ?? []) as Role[],
    source: doc.source,
    timestamp: doc.timestamp.getTime(),
    data: doc.data ?? {},
    deliveryId: doc.deliveryId ?? null,
    idempotencyKey: doc.idempotencyKey ?? null,
  };
}

/** The log's marker for an abandoned position (see EventStore.abandon); every read leaves markers out. */
export function abandonedDoc(seq: number) {
  return { _id: `~abandoned:${seq}`, seq, abandoned: true, timestamp: new Date() };
}

/** The filter as a MongoDB query; `null` when it cannot match anything (an empty `$in`). */
export function toQuery(filter: EventFilter): Filter<EventDoc> | null {
  const query: Filter<EventDoc> = { abandoned: { $ne: true } };
  let types = filter.types;
  if (filter.audience) {
    const allowed = new Set<string>(filter.audience.types);
    types = types ? types.filter((type) => allowed.has(type)) : filter.audience.types;
    query.$or = [{ userId: filter.audience.userId }, { roles: filter.audience.role }];
  }
  if (types?.length === 0 || filter.levels?.length === 0 || filter.sources?.length === 0) return null;
  if (filter.userId !== undefined) query.userId = filter.userId;
  if (types) query.type = { $in: [...types] };
  if (filter.levels) query.level = { $in: [...filter.levels] };
  if (filter.sources) query.source = { $in: [...filter.sources] };
  if (filter.deliveryId !== undefined) query.deliveryId = filter.deliveryId;
  if (filter.from !== undefined || filter.to !== undefined) {
    query.timestamp = {
      ...(filter.from === undefined ? {} : { $gte: new Date(filter.from) }),
      ...(filter.to === undefined ? {} : { $lt: new Date(filter.to) }),
    };
  }
  return query;
}
