/**
 * Durability: a Herald process killed with SIGKILL in the middle of delivering, then restarted on the same data
 * directory, delivers every event (checked by webhook-id at the receiver).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../src/auth/tokens.js';
import { examplePayload } from '../../src/events/examples.js';
import { startReceiver, type Receiver } from '../utils/receiver.js';
import { TEST_JWT_SECRET } from '../utils/server.js';
import { waitFor } from '../utils/deferred.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const N = 80;

interface Child {
  readonly process: ChildProcess;
  readonly graphqlUrl: string;
}

/** Starts `src/main.ts` in its own process and resolves with its URL, read from its start-up log line. */
async function startHerald(dataDir: string): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'],
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '0,200ms,200ms,200ms,200ms,200ms',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout! });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const graphqlUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Herald did not start: ${stderr.join('')}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`Herald exited with ${code}: ${stderr.join('')}`)));
    lines.on('line', (line) => {
      try {
        const url = (JSON.parse(line) as { url?: string }).url;
        if (url) {
          clearTimeout(timer);
          resolve(url);
        }
      } catch {
        // not a log line
      }
    });
  });
  return { process: child, graphqlUrl };
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const kill9 = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

describe('webhook delivery across a SIGKILL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
  const children: ChildProcess[] = [];
  let receiver: Receiver | undefined;

  afterAll(async () => {
    for (const child of children) await kill9(child);
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every pending event after a restart on the same data directory', { timeout: 60_000 }, async () => {
    receiver = await startReceiver();
    // Slow (80 ms per answer, 5 at a time per endpoint) and sometimes failing, so the kill lands mid-delivery.
    const answered = new Map<string, number>();
    receiver.on('/crash', (request, n) => {
      if (n % 9 === 0) return { status: 500, delayMs: 20 };
      const id = request.headers['webhook-id']!;
      answered.set(id, (answered.get(id) ?? 0) + 1);
      return { status: 200, delayMs: 80 };
    });
    const supplier = 'sup_crash';
    const first = await startHerald(dataDir);
    children.push(first.process);
    const created = await gql(
      first.graphqlUrl,
      signDevToken(TEST_JWT_SECRET, { sub: supplier, role: 'supplier' }),
      `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`,
      { input: { url: receiver.url('/crash'), eventTypes: ['ORDER_CREATED'] } },
    );
    expect(created.createWebhookEndpoint.endpoint.id).toMatch(/^whe_/);

    const inputs = Array.from({ length: N }, () => ({
      type: 'ORDER_CREATED',
      userId: supplier,
      source: 'orders-service',
      data: examplePayload('order_created', { supplierId: supplier }),
    }));
    const published = await gql(
      first.graphqlUrl,
      signDevToken(TEST_JWT_SECRET, { sub: 'orders-service', role: 'service' }),
      `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
      { inputs },
    );
    const ids = (published.publishEvents as Array<{ id: string }>).map((e) => e.id);
    expect(ids).toHaveLength(N);

    await receiver.waitForCount(15, { timeoutMs: 10_000 });
    await kill9(first.process);
    const beforeRestart = new Set(receiver.received().map((r) => r.headers['webhook-id']));
    expect(beforeRestart.size).toBeLessThan(N);

    const second = await startHerald(dataDir);
    children.push(second.process);
    await waitFor(() => ids.every((id) => answered.has(id)), 30_000, 'every event delivered with a 2xx');

    const duplicates = [...answered.values()].filter((count) => count > 1).length;
    // Only deliveries in flight at the kill are sent twice (at most the endpoint's 5 concurrent requests).
    expect(duplicates).toBeLessThanOrEqual(5);
    await kill9(second.process);
  });
});
