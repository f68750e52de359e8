/**
 * `npm run demo` against a real Herald in its own process: the script (run as `npm run demo` runs it, through tsx,
 * in `--fast` mode) mints tokens signed with the hub's secret, publishes its story through @herald/sdk, and each
 * demo user then finds in the log exactly the events addressed to them, with tokens the demo printed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChildServer, type ChildServer } from '../utils/child-server.js';
import { TEST_JWT_SECRET } from '../utils/server.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;

interface DemoOutput {
  run: string;
  users: Record<'customer' | 'partner' | 'supplier' | 'admin', { userId: string; role: string; token: string; link: string }>;
  published: { id: string; type: string; userId: string | null; roles: string[]; source: string; cursor: string }[];
}

const EVENTS = `query($after: String) { events(first: 500, after: $after, order: OLDEST_FIRST) { edges { node { id type userId } } pageInfo { hasNextPage endCursor } } }`;

describe('npm run demo', () => {
  let server: ChildServer;
  let output: DemoOutput;
  let stderr: string;

  beforeAll(async () => {
    server = await createChildServer();
    await server.start();
    const result = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--fast', '--json', '--url', server.graphqlUrl], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: server.dataDir, NODE_ENV: 'test' },
      timeout: 60_000,
    });
    stderr = result.stderr;
    output = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as DemoOutput;
  }, 90_000);
  afterAll(async () => {
    await server?.dispose();
  });

  const gql = async (token: string, query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const logOf = async (token: string) => {
    const seen: { id: string; type: string; userId: string | null }[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const data: any = await gql(token, EVENTS, { after });
      seen.push(...data.events.edges.map((e: any) => e.node));
      if (!data.events.pageInfo.hasNextPage) break;
      after = data.events.pageInfo.endCursor;
    }
    return seen;
  };

  it('publishes the whole story, every kind of moment the issue names, through the typed publisher', () => {
    const types = new Set(output.published.map((e) => e.type));
    for (const type of ['ORDER_CREATED', 'ORDER_CONFIRMED', 'DELIVERY_ACCEPTED', 'LOCATION_UPDATED', 'ETA_UPDATED', 'DELIVERY_COMPLETED', 'EARNING_RECORDED', 'PAYMENT_FAILED', 'INVENTORY_ALERT', 'SYSTEM_ALERT']) {
      expect(types, type).toContain(type);
    }
    expect(output.published.filter((e) => e.type === 'LOCATION_UPDATED').length).toBeGreaterThanOrEqual(10);
    expect(new Set(output.published.map((e) => e.source))).toEqual(
      new Set(['orders-service', 'payments-service', 'dispatch-service', 'inventory-service', 'location-service', 'earnings-service', 'monitoring']),
    );
    // The links carry the tokens, and the human-readable lines (on stderr with --json) print them.
    for (const user of Object.values(output.users)) {
      expect(user.link).toBe(`${server.url}/app#token=${user.token}`);
      expect(stderr).toContain(`open: ${user.link}`);
    }
    expect(stderr).toContain(`Published ${output.published.length} events`);
  });

  it('logs every published event once, and shows each demo user exactly the events addressed to them', async () => {
    const { users, published } = output;
    const adminLog = await logOf(users.admin.token);
    expect(adminLog.map((e) => e.id)).toEqual(published.map((e) => e.id));

    for (const who of ['customer', 'partner', 'supplier'] as const) {
      const user = users[who];
      const expected = published.filter((e) => e.userId === user.userId).map((e) => e.id);
      expect(expected.length, who).toBeGreaterThan(0);
      expect((await logOf(user.token)).map((e) => e.id), who).toEqual(expected);
    }
    const typesOf = async (who: keyof DemoOutput['users']) => new Set((await logOf(users[who].token)).map((e) => e.type));
    expect(await typesOf('partner')).toContain('EARNING_RECORDED');
    expect(await typesOf('customer')).not.toContain('EARNING_RECORDED');
    expect(await typesOf('supplier')).toContain('INVENTORY_ALERT');
    expect(await typesOf('customer')).not.toContain('SYSTEM_ALERT');
  });

  it("gives each demo user an unread count of what the demo sent them", async () => {
    const { users, published } = output;
    for (const who of ['customer', 'partner', 'supplier'] as const) {
      const expected = published.filter((e) => e.userId === users[who].userId).length;
      const data = await gql(users[who].token, '{ notificationState { unreadCount unreadCountCapped } }');
      expect(data.notificationState, who).toEqual({ unreadCount: Math.min(expected, 99), unreadCountCapped: expected > 99 });
    }
  });

  it('says how to start the hub when none answers', async () => {
    const failed = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--fast', '--url', 'http://127.0.0.1:9/graphql'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: server.dataDir, NODE_ENV: 'test' },
      timeout: 30_000,
    }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain('npm start');
  });
});
