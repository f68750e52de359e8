import { describe, expect, it } from 'vitest';
import { createEndpointHealth, type HealthTransition } from '../../../src/webhooks/health.js';
import { createEndpointDirectory } from '../../../src/webhooks/directory.js';
import type { EndpointId, EndpointPatch, WebhookEndpoint } from '../../../src/webhooks/model.js';

const ID = 'whe_1' as EndpointId;

async function setup(disableAfterMs = 1000, onTransition?: (to: HealthTransition) => void) {
  let stored: WebhookEndpoint = {
    id: ID, ownerId: 'sup_1', ownerRole: 'supplier', url: 'https://x.example/', description: null,
    eventTypes: ['order_created'], minLevel: 'HIGH', mode: 'ALWAYS', enabled: true, disabledReason: null,
    disabledAt: null, failingSince: null, secrets: [], createdAt: 0, updatedAt: 0,
  };
  const store = {
    async updateEndpoint(_id: EndpointId, patch: EndpointPatch, updatedAt: number) {
      stored = { ...stored, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)), updatedAt };
      return stored;
    },
  };
  const directory = createEndpointDirectory({ listEndpoints: async () => [stored] });
  await directory.reload();
  const disabled: WebhookEndpoint[] = [];
  const health = createEndpointHealth({ store, directory, disableAfterMs, onDisabled: async (e) => void disabled.push(e), onTransition });
  return { health, directory, disabled, current: () => stored };
}

describe('createEndpointHealth', () => {
  it('remembers when failures began and forgets them on a success', async () => {
    const { health, current } = await setup();
    health.observe(ID, 'failed', 100);
    health.observe(ID, 'failed', 200);
    await health.settled();
    expect(current().failingSince).toBe(100);
    health.observe(ID, 'ok', 300);
    await health.settled();
    expect(current().failingSince).toBeNull();
  });

  it('disables an endpoint failing for disableAfterMs and announces it once', async () => {
    const { health, current, disabled } = await setup(1000);
    health.observe(ID, 'failed', 100);
    health.observe(ID, 'failed', 900);
    health.observe(ID, 'failed', 1100);
    health.observe(ID, 'failed', 1200);
    await health.settled();
    expect(current()).toMatchObject({ enabled: false, disabledReason: 'FAILING', disabledAt: 1100, failingSince: 100 });
    expect(disabled).toHaveLength(1);
  });

  it('disables at once on 410 Gone', async () => {
    const { health, current, disabled } = await setup();
    health.observe(ID, 'gone', 50);
    await health.settled();
    expect(current()).toMatchObject({ enabled: false, disabledReason: 'GONE', disabledAt: 50 });
    expect(disabled.map((e) => e.disabledReason)).toEqual(['GONE']);
  });

  it('reports each health change once and counts endpoints by state (for metrics)', async () => {
    const changes: HealthTransition[] = [];
    const { health } = await setup(1000, (to) => changes.push(to));
    expect(health.states()).toEqual({ healthy: 1, failing: 0, disabled: { GONE: 0, FAILING: 0, MANUAL: 0 } });
    health.observe(ID, 'failed', 100);
    health.observe(ID, 'failed', 200);
    await health.settled();
    expect(health.states()).toMatchObject({ healthy: 0, failing: 1 });
    health.observe(ID, 'ok', 300);
    health.observe(ID, 'ok', 400);
    await health.settled();
    expect(health.states()).toMatchObject({ healthy: 1, failing: 0 });
    health.observe(ID, 'failed', 500);
    health.observe(ID, 'failed', 1600);
    health.observe(ID, 'failed', 1700);
    await health.settled();
    expect(changes).toEqual(['failing', 'recovered', 'failing', 'disabled_failing']);
    expect(health.states()).toEqual({ healthy: 0, failing: 0, disabled: { GONE: 0, FAILING: 1, MANUAL: 0 } });
  });
});
