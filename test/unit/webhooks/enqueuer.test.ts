import { describe, expect, it } from 'vitest';
import { createEnqueuer } from '../../../src/webhooks/enqueuer.js';
import { createEndpointDirectory } from '../../../src/webhooks/directory.js';
import { createPresenceLog, type BoardEntry, type PresenceBoard } from '../../../src/webhooks/presence.js';
import type { EndpointId, WebhookDelivery, WebhookEndpoint } from '../../../src/webhooks/model.js';
import type { EventId, HeraldEvent } from '../../../src/events/model.js';
import type { ListOptions } from '../../../src/events/event-store.js';
import { waitFor } from '../../utils/deferred.js';

const NOW = 1_750_000_000_000;

function fakeLog() {
  const events: HeraldEvent[] = [];
  return {
    events,
    add(userId: string, overrides: Partial<HeraldEvent> = {}) {
      const seq = events.length + 1;
      const event: HeraldEvent = {
        id: `evt_${seq}` as EventId, seq, type: 'order_created', level: 'HIGH', userId, roles: [], source: 's',
        timestamp: NOW - 60_000 + seq, data: {}, deliveryId: null, idempotencyKey: null, ...overrides,
      };
      events.push(event);
      return event;
    },
    async list({ afterSeq = 0, untilSeq = Infinity, limit }: ListOptions) {
      return events.filter((e) => e.seq > afterSeq && e.seq <= untilSeq).slice(0, limit);
    },
    async lastSeq() {
      return events.length;
    },
  };
}

function fakeOutbox() {
  const deliveries = new Map<string, WebhookDelivery>();
  const state = { cursor: null as number | null, failNext: false };
  return {
    state,
    deliveries,
    async readCursor() {
      return state.cursor;
    },
    async enqueue(list: readonly WebhookDelivery[], cursor?: number) {
      if (state.failNext) {
        state.failNext = false;
        throw new Error('store unavailable');
      }
      let inserted = 0;
      for (const d of list) {
        const key = `${d.endpointId}/${d.eventId}`;
        if (!deliveries.has(key)) {
          deliveries.set(key, d);
          inserted++;
        }
      }
      if (cursor !== undefined) state.cursor = cursor;
      return inserted;
    },
  };
}

const endpoint = (overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  id: 'whe_1' as EndpointId, ownerId: 'sup_1', ownerRole: 'supplier', url: 'https://x.example/', description: null,
  eventTypes: ['order_created'], minLevel: 'HIGH', mode: 'ALWAYS', enabled: true, disabledReason: null, disabledAt: null,
  failingSince: null, secrets: [], createdAt: 0, updatedAt: 0, ...overrides,
});

async function setup(endpoints: WebhookEndpoint[], options: { batchSize?: number; until?: () => number | undefined; board?: PresenceBoard; now?: () => number } = {}) {
  const log = fakeLog();
  const outbox = fakeOutbox();
  const directory = createEndpointDirectory({ listEndpoints: async () => endpoints });
  await directory.reload();
  const presence = createPresenceLog();
  const enqueued: string[] = [];
  const errors: unknown[] = [];
  const enqueuer = createEnqueuer({
    events: log,
    store: outbox,
    directory,
    presence,
    pollMs: 60_000,
    presenceGraceMs: 200,
    board: options.board,
    clusterGraceMs: 3_000,
    now: options.now ?? (() => NOW),
    batchSize: options.batchSize,
    until: options.until,
    onEnqueued: (ids) => enqueued.push(...ids),
    onError: (error) => errors.push(error),
  });
  return { log, outbox, presence, enqueuer, enqueued, errors };
}

/** The other instances of a cluster as the board shows them: `reports` per event id, instance -> live owners. */
function fakeBoard(instances: string[]) {
  const reports = new Map<string, Map<string, string[]>>();
  const board: PresenceBoard = {
    report() {},
    async read(ids) {
      const entries = new Map<EventId, BoardEntry>();
      for (const id of ids) {
        const byInstance = reports.get(id);
        if (byInstance) entries.set(id, { reported: new Set(byInstance.keys()), live: new Set([...byInstance.values()].flat()) });
      }
      return { instances: new Set(instances), entries };
    },
    async close() {},
  };
  const report = (eventId: string, instance: string, live: string[]) => reports.set(eventId, (reports.get(eventId) ?? new Map()).set(instance, live));
  return { board, report };
}

const pairs = (outbox: ReturnType<typeof fakeOutbox>) => [...outbox.deliveries.keys()].sort();

describe('createEnqueuer', () => {
  it('starts at the end of the log on its first run', async () => {
    const { log, outbox, enqueuer } = await setup([endpoint()]);
    log.add('sup_1');
    await enqueuer.start();
    expect(outbox.state.cursor).toBe(1);
    expect(outbox.deliveries.size).toBe(0);
    await enqueuer.stop();
  });

  it('queues one delivery per matching endpoint and event, and moves the cursor past every event read', async () => {
    const { log, outbox, enqueuer, enqueued } = await setup([endpoint(), endpoint({ id: 'whe_2' as EndpointId, ownerId: 'sup_2' })], { batchSize: 2 });
    await enqueuer.start();
    log.add('sup_1');
    log.add('sup_2');
    log.add('sup_3');
    log.add('sup_1', { level: 'LOW' });
    log.add('sup_1');
    enqueuer.trigger();
    await waitFor(() => outbox.state.cursor === 5, 1000, 'cursor at 5');
    expect(pairs(outbox)).toEqual(['whe_1/evt_1', 'whe_1/evt_5', 'whe_2/evt_2']);
    expect(new Set(enqueued)).toEqual(new Set(['whe_1', 'whe_2']));
    await enqueuer.stop();
  });

  it('reads no further than the position the hub has delivered up to (several writers: docs/cursors.md)', async () => {
    let until: number | undefined;
    const { log, outbox, enqueuer } = await setup([endpoint()], { until: () => until });
    await enqueuer.start();
    log.add('sup_1');
    log.add('sup_1');
    log.add('sup_1');
    enqueuer.trigger();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(outbox.state.cursor).toBe(0); // position unknown yet: nothing read
    until = 2; // seq 3 is committed, but a lower position could still commit behind it
    enqueuer.trigger();
    await waitFor(() => outbox.state.cursor === 2, 1000, 'cursor at 2');
    expect(pairs(outbox)).toEqual(['whe_1/evt_1', 'whe_1/evt_2']);
    until = 3;
    enqueuer.trigger();
    await waitFor(() => outbox.state.cursor === 3, 1000, 'cursor at 3');
    expect(pairs(outbox)).toEqual(['whe_1/evt_1', 'whe_1/evt_2', 'whe_1/evt_3']);
    await enqueuer.stop();
  });

  it('keeps its cursor when the outbox write fails, so the next pass queues the same events', async () => {
    const { log, outbox, enqueuer, errors } = await setup([endpoint()]);
    await enqueuer.start();
    log.add('sup_1');
    outbox.state.failNext = true;
    enqueuer.trigger();
    await waitFor(() => errors.length === 1, 1000, 'the failed pass');
    expect(outbox.state.cursor).toBe(0);
    enqueuer.trigger();
    await waitFor(() => outbox.state.cursor === 1, 1000, 'the retried pass');
    expect(pairs(outbox)).toEqual(['whe_1/evt_1']);
    await enqueuer.stop();
  });

  it('resumes from its stored cursor after a restart without queueing twice', async () => {
    const first = await setup([endpoint()]);
    await first.enqueuer.start();
    first.log.add('sup_1');
    first.enqueuer.trigger();
    await waitFor(() => first.outbox.state.cursor === 1, 1000, 'first pass');
    await first.enqueuer.stop();
    // A crash after the deliveries were written but before the cursor moved: the pass runs again.
    first.outbox.state.cursor = 0;
    first.log.add('sup_1');
    const directory = createEndpointDirectory({ listEndpoints: async () => [endpoint()] });
    await directory.reload();
    const restarted = createEnqueuer({ events: first.log, store: first.outbox, directory, presence: createPresenceLog(), pollMs: 60_000, now: () => NOW });
    await restarted.start();
    await waitFor(() => first.outbox.state.cursor === 2, 1000, 'restarted pass');
    expect(pairs(first.outbox)).toEqual(['whe_1/evt_1', 'whe_1/evt_2']);
    await restarted.stop();
  });

  it('skips WHEN_OFFLINE deliveries the owner received live and keeps those it did not or that are unknown', async () => {
    const { log, outbox, presence, enqueuer } = await setup([endpoint({ mode: 'WHEN_OFFLINE' })]);
    await enqueuer.start();
    const live = log.add('sup_1');
    const offline = log.add('sup_1');
    log.add('sup_1'); // never recorded (e.g. published before a restart), and not fresh: delivered
    presence.record(live.id, 'sup_1', true);
    presence.record(offline.id, 'sup_1', false);
    enqueuer.trigger();
    await waitFor(() => outbox.state.cursor === 3, 1000, 'pass');
    expect(pairs(outbox)).toEqual(['whe_1/evt_2', 'whe_1/evt_3']);
    expect(presence.size).toBe(0);
    await enqueuer.stop();
  });

  it('holds a fresh WHEN_OFFLINE event until its presence is recorded', async () => {
    const { log, outbox, presence, enqueuer } = await setup([endpoint({ mode: 'WHEN_OFFLINE' })]);
    await enqueuer.start();
    const fresh = log.add('sup_1', { timestamp: NOW });
    enqueuer.trigger();
    await new Promise((r) => setTimeout(r, 50));
    expect(outbox.state.cursor).toBe(0);
    presence.record(fresh.id, 'sup_1', true);
    await waitFor(() => outbox.state.cursor === 1, 1000, 'held event processed');
    expect(outbox.deliveries.size).toBe(0);
    await enqueuer.stop();
  });

  it('skips a WHEN_OFFLINE delivery when the owner received the event live on another instance', async () => {
    const { board, report } = fakeBoard(['b', 'c']);
    const { log, outbox, presence, enqueuer } = await setup([endpoint({ mode: 'WHEN_OFFLINE' })], { board });
    await enqueuer.start();
    const liveOnB = log.add('sup_1');
    const offlineEverywhere = log.add('sup_1');
    for (const e of [liveOnB, offlineEverywhere]) presence.record(e.id, 'sup_1', false);
    report(liveOnB.id, 'b', ['sup_1']);
    report(liveOnB.id, 'c', []);
    report(offlineEverywhere.id, 'b', []);
    report(offlineEverywhere.id, 'c', []);
    enqueuer.trigger();
    await waitFor(() => outbox.state.cursor === 2, 1000, 'pass');
    expect(pairs(outbox)).toEqual(['whe_1/evt_2']);
    await enqueuer.stop();
  });

  it('waits for every other live instance to report a fresh event, and counts a silent one as offline after the grace', async () => {
    const { board, report } = fakeBoard(['b', 'c']);
    let now = NOW;
    const { log, outbox, presence, enqueuer } = await setup([endpoint({ mode: 'WHEN_OFFLINE' })], { board, now: () => now });
    await enqueuer.start();
    const fresh = log.add('sup_1', { timestamp: NOW });
    presence.record(fresh.id, 'sup_1', false);
    report(fresh.id, 'b', []);
    enqueuer.trigger();
    await new Promise((r) => setTimeout(r, 250));
    expect(outbox.state.cursor).toBe(0); // c has not reported
    now = NOW + 3_001;
    await waitFor(() => outbox.state.cursor === 1, 1000, 'the grace to pass');
    expect(pairs(outbox)).toEqual(['whe_1/evt_1']);
    await enqueuer.stop();
  });
});
