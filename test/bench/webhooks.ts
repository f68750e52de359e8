/**
 * Webhook benchmark: `npx tsx test/bench/webhooks.ts`. Herald runs in this process (embedded SQLite in a temp
 * dir); the receiver runs in a child process (the second core) on 127.0.0.1 and timestamps arrivals. All traffic
 * stays on this machine; every loop is bounded in count and time.
 *
 * 1. Throughput: signed deliveries per second to 10 endpoints (target >= 2,000/s).
 * 2. Latency: p99 from publish to receiver at 500 events/s (target <= 250 ms).
 * 3. Isolation: the healthy endpoints' p99 with one endpoint that never answers beside nine healthy ones,
 *    against all ten healthy (target: <= +10 %).
 * Each scenario runs several times on a fresh Herald (BENCH_TRIALS, BENCH_RATE_TRIALS); medians are printed.
 * Other processes on this 2-core machine add noise to the p99 figures: compare the per-trial lines too.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHerald, type Herald } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { examplePayload } from '../../src/events/examples.js';
import type { PublishInput } from '../../src/events/publish.js';

const TRIALS = Number(process.env['BENCH_TRIALS'] ?? 3);
/** The p99 comparison is noisier than the throughput: more (interleaved) trials. */
const RATE_TRIALS = Number(process.env['BENCH_RATE_TRIALS'] ?? 5);
const ENDPOINTS = 10;
const THROUGHPUT_EVENTS = 20_000;
const RATE = 500;
const RATE_SECONDS = 6;
const DEADLINE_MS = 60_000;

// ---------------------------------------------------------------------------------------------------------
// Receiver (child process)

interface ReceiverStats {
  count: number;
  /** publish -> arrival, ms, per path. */
  latencies: Record<string, number[]>;
}

function runReceiver() {
  let stats: ReceiverStats = { count: 0, latencies: {} };
  const hanging = new Set<import('node:http').ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      if (path.startsWith('/hang')) {
        hanging.add(res); // never answers (until released): Herald's 15 s timeout applies
        return;
      }
      const arrived = Date.now();
      const published = Date.parse((JSON.parse(Buffer.concat(chunks).toString()) as { timestamp: string }).timestamp);
      (stats.latencies[path] ??= []).push(arrived - published);
      stats.count++;
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    process.send!({ port: (server.address() as { port: number }).port });
  });
  process.on('message', (message: { cmd: string }) => {
    if (message.cmd === 'count') process.send!({ count: stats.count });
    if (message.cmd === 'stats') process.send!({ stats });
    if (message.cmd === 'reset') {
      stats = { count: 0, latencies: {} };
      process.send!({ reset: true });
    }
    if (message.cmd === 'release') {
      // Ends the hanging requests, so the Herald under test shuts down without waiting for them.
      for (const res of hanging) res.writeHead(503).end();
      hanging.clear();
      process.send!({ released: true });
    }
    if (message.cmd === 'exit') process.exit(0);
  });
}

class ReceiverHandle {
  private constructor(
    private readonly child: ChildProcess,
    readonly origin: string,
  ) {}

  static async start(): Promise<ReceiverHandle> {
    const child = fork(fileURLToPath(import.meta.url), ['--receiver'], { execArgv: process.execArgv, stdio: 'inherit' });
    const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
    return new ReceiverHandle(child, `http://127.0.0.1:${port}`);
  }

  private ask<T>(cmd: string, key: string): Promise<T> {
    return new Promise((resolve) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (key in m) {
          this.child.off('message', onMessage);
          resolve(m[key] as T);
        }
      };
      this.child.on('message', onMessage);
      this.child.send({ cmd });
    });
  }

  count = () => this.ask<number>('count', 'count');
  stats = () => this.ask<ReceiverStats>('stats', 'stats');
  reset = () => this.ask<boolean>('reset', 'reset');
  release = () => this.ask<boolean>('release', 'released');
  stop() {
    this.child.send({ cmd: 'exit' });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Herald side

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const median = (values: readonly number[]) => percentile(values, 50);

async function startHerald(): Promise<{ herald: Herald; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789abcdef',
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  });
  const herald = await createHerald(config, createLogger(config.logLevel));
  await herald.listen();
  return { herald, dataDir };
}

async function stopHerald({ herald, dataDir }: { herald: Herald; dataDir: string }) {
  await herald.close();
  rmSync(dataDir, { recursive: true, force: true });
}

/** One supplier per endpoint; `paths[i]` is where supplier i's endpoint points. */
async function createEndpoints(herald: Herald, origin: string, paths: readonly string[]): Promise<string[]> {
  const suppliers: string[] = [];
  for (const [i, path] of paths.entries()) {
    const supplier = `sup_bench_${i}`;
    await herald.webhooks.api.create({ userId: supplier, role: 'supplier' }, { url: `${origin}${path}`, eventTypes: ['order_created'] });
    suppliers.push(supplier);
  }
  return suppliers;
}

const order = (supplier: string): PublishInput => ({
  type: 'order_created',
  userId: supplier,
  source: 'bench',
  data: examplePayload('order_created', { supplierId: supplier }),
});

async function waitForCount(receiver: ReceiverHandle, count: number, deadlineMs = DEADLINE_MS): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if ((await receiver.count()) >= count) return true;
    await sleep(20);
  }
  return false;
}

async function throughputTrial(receiver: ReceiverHandle): Promise<number> {
  const server = await startHerald();
  try {
    await receiver.reset();
    const suppliers = await createEndpoints(server.herald, receiver.origin, suppliersPaths(ENDPOINTS));
    const started = performance.now();
    for (let i = 0; i < THROUGHPUT_EVENTS; i += 500) {
      await server.herald.hub.publishMany(Array.from({ length: 500 }, (_, j) => order(suppliers[(i + j) % suppliers.length]!)));
    }
    const done = await waitForCount(receiver, THROUGHPUT_EVENTS);
    const seconds = (performance.now() - started) / 1000;
    if (!done) console.warn(`  throughput trial timed out with ${await receiver.count()} of ${THROUGHPUT_EVENTS}`);
    return (await receiver.count()) / seconds;
  } finally {
    await stopHerald(server);
  }
}

const suppliersPaths = (n: number, hanging = -1) => Array.from({ length: n }, (_, i) => (i === hanging ? `/hang/${i}` : `/s/${i}`));

/** Publishes at RATE/s for RATE_SECONDS; @returns the latencies of the healthy endpoints. */
async function rateTrial(receiver: ReceiverHandle, hangingEndpoint: boolean): Promise<number[]> {
  const server = await startHerald();
  try {
    await receiver.reset();
    const hanging = hangingEndpoint ? ENDPOINTS - 1 : -1;
    const suppliers = await createEndpoints(server.herald, receiver.origin, suppliersPaths(ENDPOINTS, hanging));
    const total = RATE * RATE_SECONDS;
    const tickMs = 10;
    const perTick = (RATE * tickMs) / 1000;
    const started = performance.now();
    let sent = 0;
    const publishes: Promise<unknown>[] = [];
    while (sent < total && performance.now() - started < RATE_SECONDS * 1000 * 2) {
      // Catch up to the schedule (timers drift), one event per publish call, as separate publishers would.
      const due = Math.min(total, Math.floor(((performance.now() - started) / tickMs + 1) * perTick));
      for (; sent < due; sent++) publishes.push(server.herald.hub.publish(order(suppliers[sent % suppliers.length]!)));
      await sleep(tickMs);
    }
    await Promise.all(publishes);
    const healthy = suppliers.filter((_, i) => i !== ENDPOINTS - 1).length;
    // Compare like with like: the latencies of the first nine endpoints in both runs.
    const expected = Math.floor((total * healthy) / ENDPOINTS);
    const done = await waitForCount(receiver, hangingEndpoint ? expected : total);
    if (!done) console.warn(`  rate trial timed out with ${await receiver.count()} deliveries`);
    const { latencies } = await receiver.stats();
    return Object.entries(latencies)
      .filter(([path]) => path !== `/s/${ENDPOINTS - 1}`)
      .flatMap(([, values]) => values);
  } finally {
    await receiver.release();
    await stopHerald(server);
  }
}

async function main() {
  if (process.argv.includes('--receiver')) return runReceiver();
  const receiver = await ReceiverHandle.start();
  try {
    console.log(
      `webhook bench: ${TRIALS} throughput trials, ${RATE_TRIALS} interleaved ${RATE}/s trials, ${ENDPOINTS} endpoints, receiver in a child process on 127.0.0.1`,
    );

    const throughput: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      throughput.push(await throughputTrial(receiver));
      console.log(`  throughput trial ${t + 1}: ${throughput[t]!.toFixed(0)} deliveries/s`);
    }

    const p99: number[] = [];
    const p50: number[] = [];
    const isolatedP99: number[] = [];
    const isolatedP50: number[] = [];
    for (let t = 0; t < RATE_TRIALS; t++) {
      const without = await rateTrial(receiver, false);
      p99.push(percentile(without, 99));
      p50.push(percentile(without, 50));
      const withHang = await rateTrial(receiver, true);
      isolatedP99.push(percentile(withHang, 99));
      isolatedP50.push(percentile(withHang, 50));
      console.log(
        `  ${RATE}/s trial ${t + 1}: all healthy p50 ${p50[t]} ms p99 ${p99[t]} ms (${without.length} deliveries); ` +
          `one hanging p50 ${isolatedP50[t]} ms p99 ${isolatedP99[t]} ms (${withHang.length})`,
      );
    }

    const ratio = median(isolatedP99) / median(p99);
    console.log('\nmedians');
    console.log(`  throughput                      ${median(throughput).toFixed(0)} deliveries/s   (target >= 2000)`);
    console.log(`  publish -> receiver at ${RATE}/s    p50 ${median(p50)} ms, p99 ${median(p99)} ms   (target p99 <= 250)`);
    console.log(`  healthy p99 beside a hanging one p50 ${median(isolatedP50)} ms, p99 ${median(isolatedP99)} ms`);
    console.log(`  isolation ratio (p99 with / without)  ${ratio.toFixed(2)}   (target <= 1.10)`);
  } finally {
    receiver.stop();
  }
}

await main();
