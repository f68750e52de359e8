/**
 * WebhookStore on SQLite: tables beside the event log in the same file. Claims are one
 * `UPDATE ... RETURNING`, so two claims never lease the same delivery.
 *
 * Durability: the caller may hand in a second connection to the file with `synchronous = NORMAL` (see
 * open-store.ts). In WAL mode that survives a process crash (kill -9) and, on power loss, can only roll back
 * the latest bookkeeping: the enqueuer's cursor rolls back with the deliveries it inserted, and a lost result
 * means a redelivery, never a lost delivery. The event log itself keeps `synchronous = FULL`.
 */
import Database from 'better-sqlite3';
import type { DeliveryQuery, AttemptRecord, WebhookStore } from '../../webhooks/webhook-store.js';
import type {
  AttemptErrorKind,
  DeliveryAttempt,
  DeliveryId,
  DeliveryStatus,
  DisabledReason,
  EndpointId,
  EndpointPatch,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookMode,
  WebhookSecret,
} from '../../webhooks/model.js';
import type { EventLevel, EventTypeName, Role } from '../../events/catalogue.js';
import type { EventId } from '../../events/model.js';
import { StoreError } from '../../errors.js';

export interface SqliteWebhookStoreOptions {
  /** An open connection to the Herald database file. */
  readonly db: Database.Database;
  /**
   * Close `db` in `close()`: true when it was opened for this store alone.
   * @default false
   */
  readonly ownsDb?: boolean;
}

const MIGRATION = `
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  owner_role TEXT NOT NULL,
  url TEXT NOT NULL,
  description TEXT,
  event_types TEXT NOT NULL,
  min_level TEXT NOT NULL,
  mode TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  disabled_reason TEXT,
  disabled_at INTEGER,
  failing_since INTEGER,
  secrets TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_owner ON webhook_endpoints (owner_id, created_at);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_seq INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  schedule_step INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL,
  lease_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_error TEXT,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (endpoint_id, status, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending ON webhook_deliveries (next_attempt_at, endpoint_id, lease_until) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_log ON webhook_deliveries (endpoint_id, id);
CREATE INDEX IF NOT EXISTS webhook_deliveries_created ON webhook_deliveries (created_at);
CREATE TABLE IF NOT EXISTS webhook_attempts (
  delivery_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  at INTEGER NOT NULL,
  http_status INTEGER,
  latency_ms INTEGER NOT NULL,
  error_kind TEXT,
  error TEXT,
  response_body TEXT
);
CREATE INDEX IF NOT EXISTS webhook_attempts_delivery ON webhook_attempts (delivery_id, n);
CREATE TABLE IF NOT EXISTS webhook_cursor (
  name TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
);
`;

const CURSOR = 'enqueuer';

interface EndpointRow {
  id: string;
  owner_id: string;
  owner_role: string;
  url: string;
  description: string | null;
  event_types: string;
  min_level: string;
  mode: string;
  enabled: number;
  disabled_reason: string | null;
  disabled_at: number | null;
  failing_since: number | null;
  secrets: string;
  created_at: number;
  updated_at: number;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_seq: number;
  event_type: string;
  status: string;
  attempts: number;
  schedule_step: number;
  next_attempt_at: number;
  lease_until: number;
  lease_id: string | null;
  created_at: number;
  updated_at: number;
  last_error: string | null;
}

interface AttemptRow {
  delivery_id: string;
  n: number;
  at: number;
  http_status: number | null;
  latency_ms: number;
  error_kind: string | null;
  error: string | null;
  response_body: string | null;
}

const toEndpoint = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id as EndpointId,
  ownerId: r.owner_id,
  ownerRole: r.owner_role as Role,
  url: r.url,
  description: r.description,
  eventTypes: JSON.parse(r.event_types) as EventTypeName[],
  minLevel: r.min_level as EventLevel,
  mode: r.mode as WebhookMode,
  enabled: r.enabled === 1,
  disabledReason: r.disabled_reason as DisabledReason | null,
  disabledAt: r.disabled_at,
  failingSince: r.failing_since,
  secrets: JSON.parse(r.secrets) as WebhookSecret[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const endpointParams = (e: WebhookEndpoint) => ({
  id: e.id,
  owner_id: e.ownerId,
  owner_role: e.ownerRole,
  url: e.url,
  description: e.description,
  event_types: JSON.stringify(e.eventTypes),
  min_level: e.minLevel,
  mode: e.mode,
  enabled: e.enabled ? 1 : 0,
  disabled_reason: e.disabledReason,
  disabled_at: e.disabledAt,
  failing_since: e.failingSince,
  secrets: JSON.stringify(e.secrets),
  created_at: e.createdAt,
  updated_at: e.updatedAt,
});

const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id as DeliveryId,
  endpointId: r.endpoint_id as EndpointId,
  eventId: r.event_id as EventId,
  eventSeq: r.event_seq,
  eventType: r.event_type as EventTypeName,
  status: r.status as DeliveryStatus,
  attempts: r.attempts,
  scheduleStep: r.schedule_step,
  nextAttemptAt: r.next_attempt_at,
  leaseUntil: r.lease_until,
  leaseId: r.lease_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastError: r.last_error,
});

const deliveryParams = (d: WebhookDelivery) => ({
  id: d.id,
  endpoint_id: d.endpointId,
  event_id: d.eventId,
  event_seq: d.eventSeq,
  event_type: d.eventType,
  status: d.status,
  attempts: d.attempts,
  schedule_step: d.scheduleStep,
  next_attempt_at: d.nextAttemptAt,
  lease_until: d.leaseUntil,
  lease_id: d.leaseId,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
  last_error: d.lastError,
});

const toAttempt = (r: AttemptRow): DeliveryAttempt => ({
  deliveryId: r.delivery_id as DeliveryId,
  n: r.n,
  at: r.at,
  httpStatus: r.http_status,
  latencyMs: r.latency_ms,
  errorKind: r.error_kind as AttemptErrorKind | null,
  error: r.error,
  responseBody: r.response_body,
});

const DELIVERY_COLUMNS =
  'id, endpoint_id, event_id, event_seq, event_type, status, attempts, schedule_step, next_attempt_at, lease_until, lease_id, created_at, updated_at, last_error';
const DELIVERY_VALUES =
  '@id, @endpoint_id, @event_id, @event_seq, @event_type, @status, @attempts, @schedule_step, @next_attempt_at, @lease_until, @lease_id, @created_at, @updated_at, @last_error';

/** camelCase patch field -> column, and how to encode its value. */
const PATCH_COLUMNS: { readonly [K in keyof EndpointPatch]-?: readonly [string, (v: NonNullable<unknown>) => unknown] } = {
  url: ['url', (v) => v],
  description: ['description', (v) => v],
  eventTypes: ['event_types', (v) => JSON.stringify(v)],
  minLevel: ['min_level', (v) => v],
  mode: ['mode', (v) => v],
  enabled: ['enabled', (v) => (v ? 1 : 0)],
  disabledReason: ['disabled_reason', (v) => v],
  disabledAt: ['disabled_at', (v) => v],
  failingSince: ['failing_since', (v) => v],
  secrets: ['secrets', (v) => JSON.stringify(v)],
};

export function createSqliteWebhookStore(options: SqliteWebhookStoreOptions): WebhookStore {
  const { db } = options;
  try {
    db.exec(MIGRATION);
  } catch (cause) {
    throw new StoreError('Cannot create the SQLite webhook tables', { cause });
  }

  const insertEndpoint = db.prepare(
    `INSERT INTO webhook_endpoints (id, owner_id, owner_role, url, description, event_types, min_level, mode, enabled,
       disabled_reason, disabled_at, failing_since, secrets, created_at, updated_at)
     VALUES (@id, @owner_id, @owner_role, @url, @description, @event_types, @min_level, @mode, @enabled,
       @disabled_reason, @disabled_at, @failing_since, @secrets, @created_at, @updated_at)`,
  );
  const endpointById = db.prepare<[string], EndpointRow>('SELECT * FROM webhook_endpoints WHERE id = ?');
  const insertDelivery = db.prepare(
    `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS}) VALUES (${DELIVERY_VALUES}) ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
  );
  const requeueDelivery = db.prepare(
    `INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS}) VALUES (${DELIVERY_VALUES})
     ON CONFLICT (endpoint_id, event_id) DO UPDATE SET status = 'pending', schedule_step = 0,
       next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at, last_error = NULL,
       lease_until = 0, lease_id = NULL
     WHERE webhook_deliveries.status <> 'pending'`,
  );
  const writeCursor = db.prepare('INSERT INTO webhook_cursor (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq');
  const readCursor = db.prepare<[string], { seq: number }>('SELECT seq FROM webhook_cursor WHERE name = ?');
  const dueEndpoints = db.prepare<[number, number, number], { endpoint_id: string }>(
    `SELECT DISTINCT endpoint_id FROM webhook_deliveries
     WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ? LIMIT ?`,
  );
  const claim = db.prepare<[number, string, string, number, number, number], DeliveryRow>(
    `UPDATE webhook_deliveries SET lease_until = ?, lease_id = ?
     WHERE id IN (
       SELECT id FROM webhook_deliveries
       WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?
       ORDER BY next_attempt_at, event_seq LIMIT ?)
     RETURNING *`,
  );
  const completeDelivery = db.prepare(
    `UPDATE webhook_deliveries SET status = @status, attempts = @attempts, schedule_step = @schedule_step,
       next_attempt_at = @next_attempt_at, last_error = @last_error, updated_at = @updated_at, lease_until = 0, lease_id = NULL
     WHERE id = @id AND lease_id = @lease_id`,
  );
  // Skipped when the delivery is gone (its endpoint was deleted while the request was in flight).
  const insertAttempt = db.prepare(
    `INSERT INTO webhook_attempts (delivery_id, n, at, http_status, latency_ms, error_kind, error, response_body)
     SELECT @delivery_id, @n, @at, @http_status, @latency_ms, @error_kind, @error, @response_body
     WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = @delivery_id)`,
  );
  const release = db.prepare('UPDATE webhook_deliveries SET lease_until = 0, lease_id = NULL WHERE id = ? AND lease_id = ?');
  const deliveryById = db.prepare<[string], DeliveryRow>('SELECT * FROM webhook_deliveries WHERE id = ?');

  const guard = <T>(what: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (cause) {
      return Promise.reject(new StoreError(`SQLite webhook store: ${what} failed`, { cause }));
    }
  };

  const enqueue = db.transaction((deliveries: readonly WebhookDelivery[], cursor: number | undefined) => {
    let inserted = 0;
    for (const d of deliveries) inserted += insertDelivery.run(deliveryParams(d)).changes;
    if (cursor !== undefined) writeCursor.run(CURSOR, cursor);
    return inserted;
  });

  const requeue = db.transaction((deliveries: readonly WebhookDelivery[]) => {
    let queued = 0;
    for (const d of deliveries) queued += requeueDelivery.run(deliveryParams(d)).changes;
    return queued;
  });

  const complete = db.transaction((records: readonly AttemptRecord[]) => {
    for (const { deliveryId, leaseId, update, attempt } of records) {
      completeDelivery.run({
        id: deliveryId,
        lease_id: leaseId,
        status: update.status,
        attempts: update.attempts,
        schedule_step: update.scheduleStep,
        next_attempt_at: update.nextAttemptAt,
        last_error: update.lastError,
        updated_at: update.updatedAt,
      });
      insertAttempt.run({
        delivery_id: attempt.deliveryId,
        n: attempt.n,
        at: attempt.at,
        http_status: attempt.httpStatus,
        latency_ms: attempt.latencyMs,
        error_kind: attempt.errorKind,
        error: attempt.error,
        response_body: attempt.responseBody,
      });
    }
  });

  const deleteEndpoint = db.transaction((id: string) => {
    db.prepare('DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ?)').run(id);
    db.prepare('DELETE FROM webhook_deliveries WHERE endpoint_id = ?').run(id);
    return db.prepare('DELETE FROM webhook_endpoints WHERE id = ?').run(id).changes > 0;
  });

  const purge = db.transaction((before: number) => {
    const finished = `SELECT id FROM webhook_deliveries WHERE created_at < ? AND status <> 'pending'`;
    db.prepare(`DELETE FROM webhook_attempts WHERE delivery_id IN (${finished})`).run(before);
    return db.prepare(`DELETE FROM webhook_deliveries WHERE id IN (${finished})`).run(before).changes;
  });

  const releaseMany = db.transaction((ids: readonly DeliveryId[], leaseId: string) => {
    for (const id of ids) release.run(id, leaseId);
  });

  return {
    kind: 'sqlite',

    insertEndpoint: (endpoint) => guard('insertEndpoint', () => void insertEndpoint.run(endpointParams(endpoint))),
    getEndpoint: (id) =>
      guard('getEndpoint', () => {
        const row = endpointById.get(id);
        return row ? toEndpoint(row) : null;
      }),
    listEndpoints: ({ ownerId } = {}) =>
      guard('listEndpoints', () => {
        const rows =
          ownerId === undefined
            ? db.prepare<[], EndpointRow>('SELECT * FROM webhook_endpoints ORDER BY created_at, id').all()
            : db.prepare<[string], EndpointRow>('SELECT * FROM webhook_endpoints WHERE owner_id = ? ORDER BY created_at, id').all(ownerId);
        return rows.map(toEndpoint);
      }),
    countEndpoints: (ownerId) =>
      guard('countEndpoints', () => (db.prepare('SELECT count(*) AS n FROM webhook_endpoints WHERE owner_id = ?').get(ownerId) as { n: number }).n),
    updateEndpoint: (id, patch, updatedAt) =>
      guard('updateEndpoint', () => {
        const sets = ['updated_at = ?'];
        const params: unknown[] = [updatedAt];
        for (const [key, value] of Object.entries(patch) as [keyof EndpointPatch, unknown][]) {
          if (value === undefined) continue;
          const [column, encode] = PATCH_COLUMNS[key];
          sets.push(`${column} = ?`);
          params.push(value === null ? null : encode(value));
        }
        db.prepare(`UPDATE webhook_endpoints SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
        const row = endpointById.get(id);
        return row ? toEndpoint(row) : null;
      }),
    deleteEndpoint: (id) => guard('deleteEndpoint', () => deleteEndpoint(id)),

    readCursor: () => guard('readCursor', () => readCursor.get(CURSOR)?.seq ?? null),
    enqueue: (deliveries, cursor) => guard('enqueue', () => enqueue(deliveries, cursor)),
    requeue: (deliveries) => guard('requeue', () => requeue(deliveries)),

    dueEndpoints: (now, limit) =>
      guard('dueEndpoints', () => dueEndpoints.all(now, now, limit).map((r) => r.endpoint_id as EndpointId)),
    claim: (endpointId, now, leaseUntil, leaseId, limit) =>
      guard('claim', () =>
        claim
          .all(leaseUntil, leaseId, endpointId, now, now, limit)
          .map(toDelivery)
          .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.eventSeq - b.eventSeq),
      ),
    complete: (records) => guard('complete', () => (records.length ? complete(records) : undefined)),
    release: (ids, leaseId) => guard('release', () => (ids.length ? releaseMany(ids, leaseId) : undefined)),
    releaseStaleLeases: () =>
      guard('releaseStaleLeases', () => db.prepare('UPDATE webhook_deliveries SET lease_until = 0, lease_id = NULL WHERE lease_until > 0').run().changes),

    getDelivery: (id) =>
      guard('getDelivery', () => {
        const row = deliveryById.get(id);
        return row ? toDelivery(row) : null;
      }),
    listDeliveries: ({ endpointId, status, beforeId, limit }: DeliveryQuery) =>
      guard('listDeliveries', () => {
        const where = ['endpoint_id = ?'];
        const params: unknown[] = [endpointId];
        if (status !== undefined) {
          where.push('status = ?');
          params.push(status);
        }
        if (beforeId !== undefined) {
          where.push('id < ?');
          params.push(beforeId);
        }
        return db
          .prepare<unknown[], DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`)
          .all(...params, limit)
          .map(toDelivery);
      }),
    listAttempts: (ids) =>
      guard('listAttempts', () => {
        if (ids.length === 0) return [];
        return db
          .prepare<string[], AttemptRow>(
            `SELECT * FROM webhook_attempts WHERE delivery_id IN (${ids.map(() => '?').join(',')}) ORDER BY delivery_id, n, at`,
          )
          .all(...ids)
          .map(toAttempt);
      }),
    purgeBefore: (before) => guard('purgeBefore', () => purge(before)),

    async close() {
      if (options.ownsDb && db.open) db.close();
    },
  };
}

/**
 * The webhook store beside an SQLite event log: on a second connection to the same file with
 * `synchronous = NORMAL` (see the durability note above), so frequent bookkeeping writes do not each wait for
 * an fsync. An in-memory log has no file to share: its connection is used directly.
 */
export function createSqliteWebhookStoreBeside(eventDb: Database.Database): WebhookStore {
  if (eventDb.memory) return createSqliteWebhookStore({ db: eventDb });
  let db: Database.Database | undefined;
  try {
    db = new Database(eventDb.name);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
  } catch (cause) {
    db?.close();
    throw new StoreError(`Cannot open the SQLite webhook store in ${eventDb.name}`, { cause });
  }
  return createSqliteWebhookStore({ db, ownsDb: true });
}
