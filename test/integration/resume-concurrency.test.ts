import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { wsClient } from '../utils/clients.js';
import { examplePayload } from '../../src/events/examples.js';
import { sleep, waitFor } from '../utils/deferred.js';

describe('replay then live under concurrent publishing', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { REPLAY_BATCH_SIZE: '7' } });
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  it('delivers every event after the cursor exactly once, in order, while publishing goes on', async () => {
    const hub = server.herald.hub;
    const publishOne = (i: number) =>
      hub.publish({ type: 'wallet_updated', userId: i % 3 === 0 ? 'cus_other' : 'cus_race', source: 'wallet', data: examplePayload('wallet_updated') });

    const early: Awaited<ReturnType<typeof publishOne>>[] = [];
    for (let i = 0; i < 60; i++) early.push(await publishOne(i));
    const resumeAt = early[29]!;

    // Keep publishing (some in parallel bursts) while the client subscribes and replays.
    let publishing = true;
    const published = [...early];
    const producer = (async () => {
      for (let i = 60; publishing && i < 400; i += 4) {
        published.push(...(await Promise.all([0, 1, 2, 3].map((k) => publishOne(i + k)))));
        await sleep(1);
      }
    })();

    const client = wsClient(server.wsUrl, server.token('cus_race', 'customer'));
    try {
      const sub = client.subscribe('subscription($after: String) { events(after: $after) { id cursor } }', { after: server.herald.hub.cursors.encode(resumeAt.seq) });
      await sleep(150);
      publishing = false;
      await producer;
      const expected = published.filter((e) => e.userId === 'cus_race' && e.seq > resumeAt.seq).sort((a, b) => a.seq - b.seq);
      await waitFor(() => sub.items.length >= expected.length, 10_000, `${expected.length} events`);
      await sleep(100);
      expect(sub.items.map((i: any) => i.data.events.id)).toEqual(expected.map((e) => e.id));
    } finally {
      await client.dispose();
    }
  });
});
