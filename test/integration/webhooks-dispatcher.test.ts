/**
 * The dispatcher on a real (in-memory SQLite) webhook store with a scripted sender: concurrency bounds,
 * isolation of a hanging endpoint, and shutdown.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteWebhookStore } from '../../src/store/sqlite/sqlite-webhook-store.js';
import { createDispatcher, type Dispatcher } from '../../src/webhooks/dispatcher.js';
import { createEndpointDirectory } from '../../src/webhooks/directory.js';
import { createEndpointHealth } from '../../src/webhooks/health.js';
import { newDelivery, type EndpointId, type WebhookEndpoint } from '../../src/webhooks/model.js';
import type { SendRequest, SendResult, WebhookSender } from '../../src/webhooks/sender.js';
import type { WebhookStore } from '../../src/webhooks/webhook-store.js';
import type { EventId, HeraldEvent } from '../../src/events/model.js';
import { waitFor } from '../utils/deferred.js';

const SECRET = 'whsec_' + Buffer.from('0123456789abcdef01234567').toString('base64');

const endpoint = (id: string): WebhookEndpoint => ({
  id: id as EndpointId, ownerId: 'sup_1', ownerRole: 'supplier', url: `https://${id}.example/`, description: null,
  eventTypes: ['order_created'], minLevel: 'HIGH', mode: 'ALWAYS', enabled: true, disabledReason: null, disabledAt: null,
  failingSince: null, secrets: [{ secret: SECRET, createdAt: 0, expiresAt: null }], createdAt: 0, updatedAt: 0,
});

const event = (seq: number): HeraldEvent => ({
  id: `evt_${seq}` as EventId, seq, type: 'order_created', level: 'HIGH', userId: 'sup_1', roles: [], source: 's',
  timestamp: Date.now(), data: {}, deliveryId: null, idempotencyKey: null,
});

/** A sender that answers per URL host: 'ok' at once, or 'hang' until aborted; it tracks what is in flight. */
function scriptedSender(hanging: ReadonlySet<string>) {
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  let total = 0;
  let peakTotal = 0;
  const sent: string[] = [];
  const sender: WebhookSender = {
    async send(request: SendRequest): Promise<SendResult> {
      const host = new URL(request.url).hostname.split('.')[0]!;
      inFlight.set(host, (inFlight.get(host) ?? 0) + 1);
      peak.set(host, Math.max(peak.get(host) ?? 0, inFlight.get(host)!));
      peakTotal = Math.max(peakTotal, ++total);
      try {
        if (hanging.has(host)) {
          await new Promise<void>((resolve) => request.signal?.addEventListener('abort', () => resolve(), { once: true }));
          return { ok: false, httpStatus: null, latencyMs: 0, errorKind: 'network', error: 'aborted', responseBody: null, aborted: true };
        }
        await new Promise((r) => setTimeout(r, 2));
        sent.push(`${host}:${request.headers['webhook-id']}`);
        return { ok: true, httpStatus: 200, latencyMs: 2, errorKind: null, error: null, responseBody: '' };
      } finally {
        inFlight.set(host, inFlight.get(host)! - 1);
        total--;
      }
    },
    close() {},
  };
  return { sender, peak, sent, peakTotal: () => peakTotal };
}

describe('createDispatcher', () => {
  let dispatcher: Dispatcher | undefined;
  let db: Database.Database | undefined;
  afterEach(async () => {
    await dispatcher?.stop(10);
    db?.close();
  });

  async function setup(endpoints: WebhookEndpoint[], hanging: string[], options: { concurrency: number; endpointConcurrency: number }) {
    db = new Database(':memory:');
    const store: WebhookStore = createSqliteWebhookStore({ db });
    for (const e of endpoints) await store.insertEndpoint(e);
    const directory = createEndpointDirectory(store);
    await directory.reload();
    const script = scriptedSender(new Set(hanging));
    const events = new Map<string, HeraldEvent>();
    dispatcher = createDispatcher({
      store,
      events: { epoch: 'k3v9x2mq', get: async (id) => events.get(id) ?? null },
      directory,
      sender: script.sender,
      health: createEndpointHealth({ store, directory, disableAfterMs: 1e9, onDisabled: async () => {} }),
      schedule: [0, 1000],
      pollMs: 50,
      ...options,
    });
    const queue = async (endpointId: string, count: number, from: number) => {
      const list = Array.from({ length: count }, (_, i) => event(from + i));
      for (const e of list) events.set(e.id, e);
      await store.enqueue(list.map((e) => newDelivery({ id: endpointId as EndpointId }, e, Date.now())));
    };
    return { store, script, queue };
  }

  it('keeps requests in flight within the per-endpoint and global limits', async () => {
    const ids = ['a', 'b', 'c', 'd'];
    const { script, queue } = await setup(ids.map(endpoint), [], { concurrency: 6, endpointConcurrency: 3 });
    for (const [i, id] of ids.entries()) await queue(id, 30, i * 100);
    dispatcher!.start();
    await waitFor(() => script.sent.length === 120, 10_000, 'all deliveries');
    for (const id of ids) expect(script.peak.get(id)).toBeLessThanOrEqual(3);
    expect(script.peakTotal()).toBeLessThanOrEqual(6);
    expect(script.peakTotal()).toBeGreaterThan(3);
  });

  it('delivers to healthy endpoints while another one hangs, holding only that endpoint\'s slots', async () => {
    const { store, script, queue } = await setup([endpoint('dead'), endpoint('live')], ['dead'], { concurrency: 10, endpointConcurrency: 3 });
    await queue('dead', 50, 0);
    await queue('live', 50, 100);
    dispatcher!.start();
    await waitFor(() => script.sent.length === 50, 10_000, 'the live endpoint\'s deliveries');
    expect(script.peak.get('dead')).toBe(3);
    expect(dispatcher!.inFlight).toBe(3);

    await dispatcher!.stop(20);
    dispatcher = undefined;
    // The aborted requests were given back, not counted as attempts.
    const pending = await store.listDeliveries({ endpointId: 'dead' as EndpointId, status: 'pending', limit: 100 });
    expect(pending).toHaveLength(50);
    expect(pending.every((d) => d.leaseId === null && d.attempts === 0)).toBe(true);
  });
});
