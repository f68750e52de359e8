/**
 * `npm run bench -- cluster [--seconds 60] [--users 10] [--rate 20] [--mongo-url URL]`: a bounded soak of two Herald
 * instances sharing one MongoDB-wire log (FerretDB unless `--mongo-url`/MONGODB_URL) and one Redis. One publisher
 * per instance publishes orders to random users at `--rate` events/s; each user has a graphql-ws subscriber that
 * keeps churning: connected to one instance for 1-4 s, then gone for up to 1 s, then back on the other instance
 * with its last cursor (`after`). At the end every subscriber reconnects once more and stays until nothing has come for 3 s; then each
 * user's received ids are compared with the acknowledged ones: missing, duplicates, out of order. Prints the
 * counts, the instances' RSS at start and end, and PASS/FAIL (exit code 1 on FAIL).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { examplePayload } from '../../src/events/examples.js';
import { startHeraldProcess, type HeraldProcess } from '../utils/herald-process.js';
import { wsClient } from '../utils/clients.js';
import { toInput } from '../utils/publish.js';
import { startMongoForTests, uniqueDbName, withDbName, type TestMongo } from '../utils/mongo.js';
import { startRedisForTests, type TestRedis } from '../utils/redis.js';
import { sleep } from '../utils/deferred.js';
import { cursorParts } from '../utils/cursors.js';

const SUB = 'subscription($after: String) { events(types: [ORDER_CREATED], after: $after) { id cursor } }';
const PUBLISH_MANY = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id userId } }';

const rssMb = (pid: number): number => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
};

interface UserState {
  readonly userId: string;
  /** Ids in the order the subscriber received them, across every connection. */
  readonly received: string[];
  /** Cursor positions as received, to check order. */
  readonly seqs: number[];
  lastCursor: string | undefined;
  connections: number;
}

/**
 * One connection of a user's subscriber: resumes from its last cursor, records what arrives, and leaves after
 * `holdMs`, or, with `done`, 1 s after `done()` holds (at most `holdMs`; the second lets duplicates show).
 */
async function connectOnce(server: HeraldProcess, user: UserState, holdMs: number, errors: string[], done?: () => boolean): Promise<void> {
  const handle = wsClient(server.wsUrl, server.token(user.userId, 'customer'));
  user.connections++;
  try {
    await Promise.race([handle.connected, sleep(5000).then(() => Promise.reject(new Error('connect timeout')))]);
    await new Promise<void>((resolve) => {
      const stop = handle.client.subscribe<any>(
        { query: SUB, variables: user.lastCursor ? { after: user.lastCursor } : {} },
        {
          next: ({ data, errors: errs }) => {
            if (errs?.length) errors.push(`${user.userId}: ${errs[0]?.extensions?.code ?? errs[0]?.message}`);
            if (!data?.events) return;
            user.received.push(data.events.id);
            user.seqs.push(cursorParts(data.events.cursor).seq);
            user.lastCursor = data.events.cursor;
          },
          error: (error) => {
            errors.push(`${user.userId}: ${String((error as Error)?.message ?? error)}`);
            resolve();
          },
          complete: () => resolve(),
        },
      );
      const leave = () => {
        clearInterval(idle);
        clearTimeout(hold);
        stop();
        resolve();
      };
      let doneAt: number | undefined;
      const idle = setInterval(() => {
        if (done && doneAt === undefined && done()) doneAt = Date.now();
        if (doneAt !== undefined && Date.now() - doneAt >= 1000) leave();
      }, 100);
      const hold = setTimeout(leave, holdMs);
    });
  } catch (error) {
    errors.push(`${user.userId}: ${(error as Error).message}`);
  } finally {
    await handle.dispose();
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'cluster'),
    options: { seconds: { type: 'string', default: '60' }, users: { type: 'string', default: '10' }, rate: { type: 'string', default: '20' }, 'mongo-url': { type: 'string' } },
    strict: true,
  });
  const seconds = Number(values.seconds);
  const users = Number(values.users);
  const rate = Number(values.rate);
  for (const [name, n] of [['seconds', seconds], ['users', users], ['rate', rate]] as const) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  }

  const external = values['mongo-url'] ?? process.env['MONGODB_URL'];
  const mongo = external ? { url: withDbName(external, uniqueDbName()), stop: async () => {} } : await startMongoForTests();
  if ('skip' in mongo) throw new Error(mongo.skip);
  const redis = await startRedisForTests();
  if ('skip' in redis) throw new Error(redis.skip);
  const env = (id: string) => ({ MONGODB_URL: (mongo as TestMongo).url, REDIS_URL: (redis as TestRedis).url, INSTANCE_ID: id, PUBLISH_RATE_PER_TOKEN: '0', CONNECTION_RATE_PER_IP: '0' });
  const a = await startHeraldProcess({ env: env('soak-a') });
  const b = await startHeraldProcess({ env: env('soak-b') });
  const instances = [a, b];
  const rssStart = instances.map((i) => rssMb(i.pid));
  console.log(`cluster soak: 2 instances (pids ${a.pid}, ${b.pid}), ${users} churning subscribers, ${rate} events/s per instance, ${seconds} s`);

  const state: UserState[] = Array.from({ length: users }, (_, i) => ({ userId: `cus_soak_${i}`, received: [], seqs: [], lastCursor: undefined, connections: 0 }));
  const acknowledged = new Map<string, string[]>(state.map((u) => [u.userId, []]));
  const errors: string[] = [];
  let publishFailures = 0;
  const deadline = Date.now() + seconds * 1000;

  // Each subscriber joins, then gets a first event (so it has a cursor to resume from): every event of the run is
  // one it may see.
  const joined = Promise.all(state.map((u, i) => connectOnce(instances[i % 2]!, u, 2500, errors)));
  await sleep(1000);
  const first = await a.gql(PUBLISH_MANY, { inputs: state.map((u) => toInput({ type: 'order_created', userId: u.userId, data: examplePayload('order_created', { customerId: u.userId }) })) }, a.token('svc-soak', 'service'));
  if (first.body.errors) throw new Error(`first publish failed: ${JSON.stringify(first.body.errors)}`);
  for (const e of first.body.data.publishEvents as Array<{ id: string; userId: string }>) acknowledged.get(e.userId)!.push(e.id);
  await joined;
  const late = state.filter((u) => !u.lastCursor).length;
  if (late) throw new Error(`${late} subscribers did not get their first event`);
  const churn = state.map(async (user, i) => {
    let k = i;
    while (Date.now() < deadline) {
      await connectOnce(instances[k++ % 2]!, user, 1000 + Math.random() * 3000, errors);
      await sleep(Math.random() * 1000);
    }
  });
  const publishers = instances.map(async (server) => {
    const batch = 4;
    const interval = (1000 * batch) / rate;
    const token = server.token('svc-soak', 'service');
    let next = Date.now();
    while (Date.now() < deadline) {
      const inputs = Array.from({ length: batch }, () => {
        const userId = state[Math.floor(Math.random() * users)]!.userId;
        return toInput({ type: 'order_created', userId, data: examplePayload('order_created', { customerId: userId }) });
      });
      try {
        const { body } = await server.gql(PUBLISH_MANY, { inputs }, token);
        if (body.errors) publishFailures++;
        else for (const e of body.data.publishEvents as Array<{ id: string; userId: string }>) acknowledged.get(e.userId)!.push(e.id);
      } catch {
        publishFailures++;
      }
      next += interval;
      await sleep(Math.max(0, next - Date.now()));
    }
  });
  const rssSamples: string[] = [];
  const sampler = setInterval(() => rssSamples.push(instances.map((i) => rssMb(i.pid).toFixed(0)).join('/')), 10_000);
  await Promise.all([...publishers, ...churn]);
  clearInterval(sampler);

  // A last visit for everyone: catch up from the last cursor until it has every acknowledged event (at most 60 s).
  const catchUpStart = Date.now();
  const hasAll = (u: UserState) => () => {
    const got = new Set(u.received);
    return acknowledged.get(u.userId)!.every((id) => got.has(id));
  };
  await Promise.all(state.map((u, i) => connectOnce(instances[i % 2]!, u, 60_000, errors, hasAll(u))));
  const catchUpMs = Date.now() - catchUpStart;
  const rssEnd = instances.map((i) => rssMb(i.pid));

  let expected = 0;
  let delivered = 0;
  let missing = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let connections = 0;
  for (const user of state) {
    const want = acknowledged.get(user.userId)!;
    const got = new Set(user.received);
    expected += want.length;
    delivered += user.received.length;
    missing += want.filter((id) => !got.has(id)).length;
    duplicates += user.received.length - got.size;
    connections += user.connections;
    for (let i = 1; i < user.seqs.length; i++) if (user.seqs[i]! <= user.seqs[i - 1]!) outOfOrder++;
  }
  console.log(`published (acknowledged): ${expected}, publish failures: ${publishFailures}, subscriber connections: ${connections}`);
  console.log(`delivered: ${delivered} of ${expected} expected; missing ${missing}, duplicates ${duplicates}, out of order ${outOfOrder}; final catch-up took ${catchUpMs} ms`);
  console.log(`RSS MB (a/b): start ${rssStart.map((r) => r.toFixed(0)).join('/')}, every 10 s ${rssSamples.join(' ')}, end ${rssEnd.map((r) => r.toFixed(0)).join('/')}`);
  const sample = state.find((u) => acknowledged.get(u.userId)!.some((id) => !u.received.includes(id)));
  if (sample && process.env['SOAK_DEBUG']) {
    const q = await a.gql('query($u: ID) { events(first: 100, filter: { userId: $u }, order: OLDEST_FIRST) { edges { cursor node { id } } } }', { u: sample.userId }, a.token('adm', 'admin'));
    const log = (q.body.data?.events.edges ?? []).map((e: any) => `${e.cursor}${sample.received.includes(e.node.id) ? '' : '!'}`);
    console.log(`debug ${sample.userId}: lastCursor ${sample.lastCursor}, received ${sample.received.length}, connections ${sample.connections}; log ${log.join(' ')} ${JSON.stringify(q.body.errors ?? '')}`);
    const before = sample.received.length;
    await connectOnce(b, sample, 10_000, errors, hasAll(sample));
    console.log(`debug: one more resume on b from ${sample.lastCursor} got ${sample.received.length - before}`);
  }
  const distinctErrors = [...new Set(errors)];
  if (distinctErrors.length) console.log(`client errors (${errors.length}): ${distinctErrors.slice(0, 5).join('; ')}`);
  await Promise.all([a.stop(), b.stop()]);
  await (redis as TestRedis).stop();
  await (mongo as TestMongo).stop();
  const pass = expected > 0 && missing === 0 && duplicates === 0 && outOfOrder === 0;
  console.log(pass ? 'PASS' : 'FAIL');
  if (!pass) process.exitCode = 1;
}
