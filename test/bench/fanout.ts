/**
 * Live fan-out benchmark: `npm run bench -- fanout [--connections 1000,5000,10000] [--transports ws,sse]
 *   [--rates 10,100] [--seconds 10] [--scenarios broadcast,mix,saturation,stalled] [--servers raw,herald]
 *   [--admins 10] [--load-procs 1] [--stalled] [--stalled-connections 1000] [--stalled-fill-mb 8] [--drain 5] [--no-skip]
 *   [--sat-seconds 5] [--sat-deliveries 1000000] [--sat-concurrency auto] [--mix-rate <max rate>]
 *   [--connect-concurrency 256] [--quiet-wait 5] [--herald-src <a src/ dir>] [--runtime build|tsx] [--out file.json]`
 * Quick subset: `npm run bench -- fanout --connections 1000 --rates 10 --transports ws`.
 * One load process is the default: on this 2-core machine two of them measured the same or slightly less (the
 * server and one load process already use both cores at saturation).
 *
 * For each connection count N and transport, first the raw baseline (test/bench/fanout-raw.ts: a bare `ws` /
 * `text/event-stream` server writing one pre-serialized event to every socket), then Herald (test/bench/serve.ts
 * on a temp SQLite log), each in its own process; N customer connections `cus_<i>` plus `--admins` admin
 * connections, opened by the load processes (test/bench/fanout-load.ts), all subscribed to order_created.
 * Phases, each bounded in count and time:
 * - broadcast@R: R events/s for --seconds, `roles: [CUSTOMER]`, so every connection receives every event;
 * - mix@R: each event addressed to one customer (`userId`), received by that customer and the admins;
 * - saturation: broadcast as fast as --sat-concurrency publishers get answers (default: enough to keep ~50,000
 *   deliveries in flight, 1..32), for --sat-seconds or --sat-deliveries / fan-out events, whichever comes first
 *   (mix saturation likewise);
 * - stalled (with --stalled): at --stalled-connections, after an untimed warm-up saturation, broadcast at the lowest
 *   rate and at saturation without,
 *   then with, one more connection (`cus_stalled_0`) that subscribes and stops reading. Kernel socket buffers would
 *   hide a stalled reader for the few hundred events of a phase, so first --stalled-fill-mb of events addressed to
 *   that user alone are published (`publishEvents` batches; the admins see them too, which is how the run knows
 *   they went out): the server must then hold them, drop the client, or block.
 * A rate phase is skipped (and reported so) when a lower rate of the same kind already delivered under half of what
 * it was offered: the server is saturated there, the saturation phase says how far it gets, and a full run stays
 * within ~15 minutes; --no-skip runs every phase.
 * After the last publish each phase waits at most --drain seconds for the deliveries (less if nothing arrives for
 * 5 s) and reports what arrived; a server left with a backlog gets up to 10 s to go idle, else it is restarted (and
 * the connections opened again) before the next phase.
 * Memory: heapUsed after full collections in the server with 0 connections and with all connections idle and
 * subscribed, divided by the connection count; RSS before, idle, peak per phase, after the run.
 * Prints tables and writes everything as JSON to --out (default test/bench/results/fanout-<timestamp>.json).
 * Traffic stays on 127.0.0.1. The publisher runs in this process. On a 2-core machine anything else running skews the
 * figures: before each server starts the run waits up to --quiet-wait seconds for the machine to go quiet, and
 * every phase reports the CPU the rest of the machine used meanwhile ("other CPU").
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { encodeOrderId, Histogram, wallNow } from './fanout-shared.js';
import { createPublisher, JWT_SECRET, startLoad, startServer, type LoadHandle, type MemorySample, type Publisher, type ServerHandle, type ServerKind, type Transport } from './fanout-servers.js';
import type { LoadStats } from './fanout-load.js';
import { mb, table } from './stats.js';
import { buildHerald, type Runtime } from './build.js';

// ---------------------------------------------------------------------------------------------------------
// Options

export interface FanoutOptions {
  readonly connections: readonly number[];
  readonly transports: readonly Transport[];
  readonly rates: readonly number[];
  readonly seconds: number;
  readonly scenarios: ReadonlySet<'broadcast' | 'mix' | 'saturation' | 'stalled'>;
  readonly servers: readonly ServerKind[];
  readonly admins: number;
  readonly loadProcs: number;
  readonly stalledConnections: number;
  /** Bytes of events sent to the stalled client before its phases, in MB. @default 8 */
  readonly stalledFillMb: number;
  readonly drainSeconds: number;
  readonly satDeliveries: number;
  /** Longest a saturation phase publishes. @default 5 */
  readonly satSeconds: number;
  /** Publishers in flight at saturation; 0 = auto (about 50,000 deliveries in flight, between 1 and 32). */
  readonly satConcurrency: number;
  readonly mixRate: number;
  readonly connectConcurrency: number;
  /** Skip a rate phase when a lower rate of the same kind already delivered under half of its offered load. */
  readonly skipHopeless: boolean;
  /** The `src/` directory of the Herald to measure (default: this checkout's). */
  readonly heraldSrc: string;
  /** `build`: compiled by tsc, as `npm start` runs it (build.ts); `tsx`: the sources through tsx. @default build */
  readonly runtime: Runtime;
  /** The compiled `src/` (runtime build), set by main. */
  heraldDist?: string;
  /** Before each server, wait up to this long for the rest of the machine to go quiet. */
  readonly quietWaitSeconds: number;
  readonly out: string;
}

const list = (value: unknown) => String(value).split(',').map((s) => s.trim()).filter(Boolean);
function int(name: string, value: unknown, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${String(value)}`);
  return n;
}
function oneOf<T extends string>(name: string, values: string[], allowed: readonly T[]): T[] {
  for (const v of values) if (!(allowed as readonly string[]).includes(v)) throw new Error(`--${name}: unknown ${v} (${allowed.join(', ')})`);
  return values as T[];
}

export function parseFanoutArgs(argv: readonly string[]): FanoutOptions {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'fanout'),
    options: {
      connections: { type: 'string', default: '1000,5000,10000' },
      transports: { type: 'string', default: 'ws,sse' },
      rates: { type: 'string', default: '10,100' },
      seconds: { type: 'string', default: '10' },
      scenarios: { type: 'string', default: 'broadcast,mix,saturation' },
      servers: { type: 'string', default: 'raw,herald' },
      admins: { type: 'string', default: '10' },
      'load-procs': { type: 'string', default: '1' },
      stalled: { type: 'boolean', default: false },
      'stalled-connections': { type: 'string', default: '1000' },
      'stalled-fill-mb': { type: 'string', default: '8' },
      drain: { type: 'string', default: '5' },
      'sat-deliveries': { type: 'string', default: '1000000' },
      'sat-seconds': { type: 'string', default: '5' },
      'sat-concurrency': { type: 'string', default: 'auto' },
      'mix-rate': { type: 'string' },
      'connect-concurrency': { type: 'string', default: '256' },
      'quiet-wait': { type: 'string', default: '5' },
      'herald-src': { type: 'string' },
      runtime: { type: 'string', default: 'build' },
      'no-skip': { type: 'boolean', default: false },
      out: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  const rates = list(values.rates).map((r) => int('rates', r, 1));
  const scenarios = new Set(oneOf('scenarios', list(values.scenarios), ['broadcast', 'mix', 'saturation', 'stalled'] as const));
  if (values.stalled) scenarios.add('stalled');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    connections: list(values.connections).map((n) => int('connections', n, 1)),
    transports: oneOf('transports', list(values.transports), ['ws', 'sse'] as const),
    rates,
    seconds: int('seconds', values.seconds, 1),
    scenarios,
    servers: oneOf('servers', list(values.servers), ['raw', 'herald'] as const),
    admins: int('admins', values.admins, 0),
    loadProcs: int('load-procs', values['load-procs'], 1),
    stalledConnections: int('stalled-connections', values['stalled-connections'], 1),
    stalledFillMb: int('stalled-fill-mb', values['stalled-fill-mb'], 0),
    drainSeconds: int('drain', values.drain, 1),
    satDeliveries: int('sat-deliveries', values['sat-deliveries'], 1000),
    satSeconds: int('sat-seconds', values['sat-seconds'], 1),
    satConcurrency: values['sat-concurrency'] === 'auto' ? 0 : int('sat-concurrency', values['sat-concurrency'], 1),
    mixRate: values['mix-rate'] === undefined ? Math.max(...rates) : int('mix-rate', values['mix-rate'], 1),
    connectConcurrency: int('connect-concurrency', values['connect-concurrency'], 1),
    quietWaitSeconds: int('quiet-wait', values['quiet-wait'], 0),
    skipHopeless: !values['no-skip'],
    heraldSrc: resolve(values['herald-src'] ?? fileURLToPath(new URL('../../src', import.meta.url))),
    runtime: oneOf('runtime', [String(values.runtime)], ['build', 'tsx'] as const)[0]!,
    out: resolve(values.out ?? fileURLToPath(new URL(`./results/fanout-${stamp}.json`, import.meta.url))),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Results

interface PhaseSpec {
  readonly name: string;
  readonly kind: 'broadcast' | 'mix';
  /** Events per second, or 'max' (saturation). */
  readonly rate: number | 'max';
  readonly stalled?: boolean;
}

export interface PhaseResult {
  readonly phase: string;
  readonly kind: 'broadcast' | 'mix';
  readonly rate: number | 'max';
  readonly stalledClient: boolean;
  /** Deliveries one event makes (connections that should receive it, the stalled one excluded). */
  readonly fanout: number;
  readonly attempted: number;
  readonly published: number;
  readonly failedPublishes: number;
  /** Publishes still unanswered at the end of the drain (abandoned; the server may have acted on some). */
  readonly unansweredPublishes: number;
  /** Distinct events of the phase that reached at least one connection (can exceed `published`: see above). */
  readonly eventsSeen: number;
  readonly publishConcurrency: number | null;
  readonly publishErrorSample?: string;
  readonly publishSeconds: number;
  readonly publishedPerSecond: number;
  readonly offeredDeliveriesPerSecond: number;
  readonly expected: number;
  readonly received: number;
  readonly stale: number;
  /** received / (last receipt - first send). */
  readonly achievedDeliveriesPerSecond: number;
  /** Every expected delivery arrived before the drain deadline. */
  readonly complete: boolean;
  /** The server was left with work (abandoned publishes, deliveries still arriving, missing deliveries). */
  readonly backlogAfter: boolean;
  readonly drainSeconds: number;
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number };
  readonly silentConnections: number;
  readonly minPerConnection: number;
  readonly maxPerConnection: number;
  readonly closes: Record<string, number>;
  readonly subscriptionsEnded: number;
  readonly receiveErrorSample?: string;
  readonly frameBytes: number;
  readonly server: { rssStart: number; rssPeak: number; rssEnd: number; cpuPercent: number; connectionsAtEnd: number | null };
  readonly loadCpuPercent: number[];
  /** CPU used meanwhile by everything else on the machine (other processes), % of one core; null off Linux. */
  readonly otherCpuPercent: number | null;
  /** The server had to be restarted (backlog from the previous phase) before this phase. */
  readonly restartedBefore: boolean;
}

export interface StalledFill {
  readonly attempted: number;
  readonly published: number;
  /** Deliveries of the fill to the admins (each admin gets every fill event), and whether all arrived. */
  readonly adminDeliveries: number;
  readonly complete: boolean;
  readonly seconds: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly serverConnectionsAfter: number | null;
  readonly stalledStillOpen: boolean | null;
}

export interface CellResult {
  readonly server: ServerKind;
  readonly transport: Transport;
  readonly connections: number;
  readonly admins: number;
  readonly stalledRun: boolean;
  /** sha256 of src/ when the server started (the code under test may change between cells). */
  readonly srcHash: string;
  /** Other processes' CPU (% of one core) before the server started, and how long we waited for it to drop. */
  readonly quiet: { otherCpuPercent: number | null; waitedSeconds: number };
  readonly error?: string;
  readonly connect?: { connected: number; failed: number; seconds: number; errors: string[]; warmSeconds: number; warmed: boolean };
  readonly memory?: {
    readonly before: MemorySample;
    readonly idle: MemorySample;
    readonly after?: MemorySample;
    readonly heapPerConnection: number;
    readonly rssPerConnection: number;
  };
  readonly phases: PhaseResult[];
  /** Each time the stalled client was (re)connected: the events pushed at it before the measured phases. */
  readonly stalledFills?: StalledFill[];
  /** Wall time of the cell, s. */
  readonly seconds?: number;
  /** Phases not run: a lower rate of the same kind already delivered under half of what was offered. */
  readonly skipped: { phase: string; reason: string; before: number }[];
  readonly restarts: number;
}

// ---------------------------------------------------------------------------------------------------------
// Running

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (line: string) => console.log(line);

let phaseCounter = 0;
const STALLED_USER = 'cus_stalled_0';
/** Size of one event frame (Herald's and the baseline's), for turning --stalled-fill-mb into a count. */
const FRAME_BYTES = 303;
let warmSeq = 0;

interface Cell {
  server: ServerHandle;
  publisher: Publisher;
  /** Connections per load process (customers, admins), so a restart can open the same ones again. */
  readonly plan: { from: number; to: number; admins: number }[];
  connected: number;
  stalled: boolean;
}

class FanoutRun {
  constructor(
    private readonly options: FanoutOptions,
    private readonly loads: LoadHandle[],
  ) {}

  private plan(n: number): { from: number; to: number; admins: number }[] {
    const per = Math.ceil(n / this.loads.length);
    return this.loads.map((_, i) => ({ from: Math.min(n, i * per), to: Math.min(n, (i + 1) * per), admins: i === 0 ? this.options.admins : 0 }));
  }

  /** Opens the plan's connections, then publishes warm-up events until every connection has received one. */
  private async connectAll(cell: Cell, transport: Transport) {
    const started = Date.now();
    const answers = await Promise.all(
      this.loads.map((load, i) =>
        load.connect({
          server: cell.server.kind, transport, origin: cell.server.url, secret: JWT_SECRET, ...cell.plan[i]!,
          concurrency: Math.ceil(this.options.connectConcurrency / this.loads.length), timeoutMs: 120_000,
        }),
      ),
    );
    if (cell.stalled) await this.addStalled(cell, transport);
    const connected = answers.reduce((s, a) => s + a.connected, 0);
    const failed = answers.reduce((s, a) => s + a.failed, 0);
    const errors = answers.flatMap((a) => a.errors);
    const seconds = (Date.now() - started) / 1000;
    cell.connected = connected;
    const warmStart = Date.now();
    let warmed = false;
    // Subscriptions over graphql-ws are not acknowledged: a received event is the proof one is live.
    while (Date.now() - warmStart < 60_000) {
      void cell.publisher.publish(encodeOrderId(0, ++warmSeq, wallNow()), null);
      await sleep(connected > 5000 ? 1000 : 500);
      const states = await Promise.all(this.loads.map((l) => l.warm()));
      if (states.every((s) => s.warm === s.open)) {
        warmed = true;
        break;
      }
    }
    while (cell.publisher.pending > 0 && Date.now() - warmStart < 90_000) await sleep(50);
    await sleep(300);
    return { connected, failed, seconds, errors, warmSeconds: (Date.now() - warmStart) / 1000, warmed };
  }

  private async addStalled(cell: Cell, transport: Transport) {
    const a = await this.loads[0]!.stall({ server: cell.server.kind, transport, origin: cell.server.url, secret: JWT_SECRET, from: 0, to: 1, admins: 0, timeoutMs: 30_000 });
    if (a.connected !== 1) log(`    stalled client did not connect: ${a.errors.join('; ')}`);
  }

  /** Waits up to 10 s for the server to go idle (CPU < 10% of a core over 1 s); @returns whether it did. */
  private async settle(cell: Cell): Promise<boolean> {
    const started = Date.now();
    let last = await cell.server.mem(false);
    while (Date.now() - started < 10_000) {
      await sleep(1000);
      const now = await cell.server.mem(false);
      if (now.cpuMs - last.cpuMs < 100 && cell.publisher.pending === 0) return true;
      last = now;
    }
    return false;
  }

  /** Publishes --stalled-fill-mb of events to the stalled user alone and waits (<= 120 s) until the admins got them. */
  private async fillStalled(cell: Cell): Promise<StalledFill> {
    const { loads, options } = this;
    const phase = ++phaseCounter;
    await Promise.all(loads.map((l) => l.phase(phase)));
    const rssBefore = (await cell.server.mem(false)).rss;
    const attempted = Math.ceil((options.stalledFillMb * 1024 * 1024) / FRAME_BYTES);
    const started = Date.now();
    let published = 0;
    let next = 0;
    const BATCH = 200;
    const worker = async () => {
      while (next < attempted && Date.now() - started < 90_000) {
        const ids = Array.from({ length: Math.min(BATCH, attempted - next) }, () => encodeOrderId(phase, ++next, wallNow()));
        const acknowledged = await cell.publisher.publishBatch(ids, STALLED_USER);
        published += acknowledged;
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    let received = 0;
    const want = published * options.admins;
    while (Date.now() - started < 120_000 && received < want) {
      await sleep(250);
      received = sum(await Promise.all(loads.map((l) => l.count())), (c) => c.received);
    }
    if (options.admins === 0) await this.settle(cell);
    const serverConnectionsAfter = await cell.server.connections();
    // The paused socket cannot notice a close (it reads nothing), so ask the server.
    const stalledStillOpen =
      serverConnectionsAfter === cell.connected + 1 ? true : serverConnectionsAfter === cell.connected ? false : null;
    const fill: StalledFill = {
      attempted, published, adminDeliveries: received, complete: received >= want, seconds: (Date.now() - started) / 1000,
      rssBefore, rssAfter: (await cell.server.mem(false)).rss, serverConnectionsAfter, stalledStillOpen,
    };
    log(
      `    stalled-client fill: ${published}/${attempted} events (${options.stalledFillMb} MB) to ${STALLED_USER} in ${fill.seconds.toFixed(1)} s, ` +
        `admins got ${num(received)}/${num(want)}; server RSS ${mb(rssBefore)} -> ${mb(fill.rssAfter)}, server counts ${serverConnectionsAfter ?? '?'} connections (stalled socket ${stalledStillOpen === null ? '?' : stalledStillOpen ? 'still open' : 'closed by the server'})`,
    );
    return fill;
  }

  private async restart(cell: Cell, transport: Transport) {
    await cell.server.stop();
    await Promise.all(this.loads.map((l) => l.close()));
    cell.server = await startServer(cell.server.kind, { env: heraldEnv(this.options) });
    cell.publisher = createPublisher(cell.server);
    const c = await this.connectAll(cell, transport);
    log(`    restarted ${cell.server.kind}: ${c.connected} connected in ${c.seconds.toFixed(1)} s${c.warmed ? '' : ' (not all warmed)'}${c.errors.length ? `; connect errors: ${c.errors.slice(0, 3).join('; ')}` : ''}`);
  }

  private async runPhase(cell: Cell, spec: PhaseSpec, restartedBefore: boolean): Promise<PhaseResult> {
    const { options, loads } = this;
    const phase = ++phaseCounter;
    await Promise.all(loads.map((l) => l.phase(phase)));
    const adminsCount = options.admins;
    const customers = cell.connected - adminsCount;
    const fanout = spec.kind === 'broadcast' ? cell.connected : 1 + adminsCount;
    cell.server.takePeakRss();
    const memStart = await cell.server.mem(false);
    const { publisher } = cell;
    const machineStart = machineBusyMs();
    const selfStart = process.cpuUsage();

    let attempted = 0;
    let published = 0;
    let failed = 0;
    let unanswered = 0;
    let seq = 0;
    const target = () => (spec.kind === 'broadcast' ? null : `cus_${Math.floor(Math.random() * Math.max(1, customers))}`);
    const publishOne = async () => {
      attempted++;
      const outcome = await publisher.publish(encodeOrderId(phase, ++seq, wallNow()), target());
      if (outcome === 'ok') published++;
      else if (outcome === 'aborted') unanswered++;
      else failed++;
    };
    const concurrency = options.satConcurrency || Math.min(32, Math.max(1, Math.ceil(50_000 / fanout)));

    const firstSend = wallNow();
    const publishes: Promise<void>[] = [];
    if (spec.rate === 'max') {
      const maxEvents = Math.max(1, Math.ceil(options.satDeliveries / fanout));
      const deadline = firstSend + options.satSeconds * 1000;
      const worker = async () => {
        while (attempted < maxEvents && wallNow() < deadline) await publishOne();
      };
      publishes.push(...Array.from({ length: concurrency }, worker));
    } else {
      // Open loop: the schedule does not wait for answers (a slow server must not slow the offered load).
      const total = spec.rate * options.seconds;
      const tickMs = 5;
      while (attempted < total && wallNow() - firstSend < options.seconds * 2000) {
        const due = Math.min(total, Math.floor(((wallNow() - firstSend) * spec.rate) / 1000) + 1);
        while (attempted < due) publishes.push(publishOne());
        await sleep(tickMs);
      }
    }
    const all = Promise.all(publishes);
    if (spec.rate === 'max') await Promise.race([all, sleep(options.satSeconds * 1000 + 30_000)]);
    const publishEnd = wallNow();

    // Drain: until every expected delivery arrived, the deadline, or 5 s without progress once answered. An event
    // counts as expected once acknowledged or once anyone received it (the server may act on an abandoned publish).
    const deadline = publishEnd + options.drainSeconds * 1000;
    let received = 0;
    let lastProgress = wallNow();
    const poll = async () => {
      const counts = await Promise.all(loads.map((l) => l.count()));
      // Admins (all on the first load process) receive every event, so the largest `seen` is the phase's.
      return { received: sum(counts, (c) => c.received), seen: Math.max(...counts.map((c) => c.seen)) };
    };
    for (;;) {
      const now = await poll();
      if (now.received > received) lastProgress = wallNow();
      received = now.received;
      const answered = publisher.pending === 0;
      if (answered && received >= Math.max(published, now.seen) * fanout) break;
      if (wallNow() > deadline) break;
      if (answered && wallNow() - lastProgress > 5000) break;
      await sleep(200);
    }
    const abandoned = publisher.abort();
    await Promise.race([all, sleep(2000)]);
    const drainSeconds = (wallNow() - publishEnd) / 1000;
    // Still arriving after the drain: the server has a backlog, and the next phase needs a fresh one.
    await sleep(300);
    const stillArriving = (await poll()).received > received;

    const stats = await Promise.all(loads.map((l) => l.stats()));
    const memEnd = await cell.server.mem(false);
    const machineEnd = machineBusyMs();
    const self = process.cpuUsage(selfStart);
    const ours = memEnd.cpuMs - memStart.cpuMs + sum(stats, (s) => s.cpuMs) + (self.user + self.system) / 1000;
    const connectionsAtEnd = await cell.server.connections();
    const rssPeak = Math.max(cell.server.takePeakRss(), memStart.rss, memEnd.rss);
    const histogram = new Histogram();
    for (const s of stats) histogram.merge(s.histogram);
    const got = sum(stats, (s) => s.received);
    const lastAt = Math.max(...stats.map((s) => s.lastAt));
    const wallSeconds = (wallNow() - firstSend) / 1000;
    const eventsSeen = Math.max(...stats.map((s) => s.seen));
    const expected = Math.max(published, eventsSeen) * fanout;
    const publishSeconds = (publishEnd - firstSend) / 1000;
    const result: PhaseResult = {
      phase: spec.name,
      kind: spec.kind,
      rate: spec.rate,
      stalledClient: cell.stalled,
      fanout,
      attempted,
      published,
      failedPublishes: failed,
      unansweredPublishes: unanswered,
      eventsSeen,
      publishConcurrency: spec.rate === 'max' ? concurrency : null,
      publishErrorSample: publisher.errorSample,
      publishSeconds,
      publishedPerSecond: published / publishSeconds,
      offeredDeliveriesPerSecond: (spec.rate === 'max' ? published / publishSeconds : spec.rate) * fanout,
      expected,
      received: got,
      stale: sum(stats, (s) => s.stale),
      achievedDeliveriesPerSecond: got > 0 ? got / Math.max(0.001, (lastAt - firstSend) / 1000) : 0,
      complete: got >= expected,
      backlogAfter: abandoned > 0 || stillArriving || got < expected,
      drainSeconds,
      latencyMs: { p50: histogram.percentile(50), p95: histogram.percentile(95), p99: histogram.percentile(99), max: histogram.max },
      silentConnections: sum(stats, (s) => s.silent),
      minPerConnection: Math.min(...stats.map((s) => s.minPerConnection)),
      maxPerConnection: Math.max(...stats.map((s) => s.maxPerConnection)),
      closes: mergeCounts(stats.map((s) => s.closes)),
      subscriptionsEnded: sum(stats, (s) => s.ended),
      receiveErrorSample: stats.find((s) => s.errorSample)?.errorSample,
      frameBytes: Math.max(...stats.map((s) => s.frameBytes)),
      server: { rssStart: memStart.rss, rssPeak, rssEnd: memEnd.rss, cpuPercent: ((memEnd.cpuMs - memStart.cpuMs) / 1000 / wallSeconds) * 100, connectionsAtEnd },
      loadCpuPercent: stats.map((s) => (s.cpuMs / 1000 / wallSeconds) * 100),
      otherCpuPercent: machineStart === null || machineEnd === null ? null : (Math.max(0, machineEnd - machineStart - ours) / 1000 / wallSeconds) * 100,
      restartedBefore,
    };
    log(`    ${phaseLine(result)}`);
    return result;
  }

  /** One server, one transport, one connection count: connect, measure idle memory, run the phases. */
  async runCell(kind: ServerKind, transport: Transport, n: number, specs: readonly PhaseSpec[], stalledRun = false): Promise<CellResult> {
    log(`\n[${transport} ${n.toLocaleString('en-US')} ${kind}${stalledRun ? ' stalled-client comparison' : ''}]`);
    const phases: PhaseResult[] = [];
    const skipped: { phase: string; reason: string; before: number }[] = [];
    const fills: StalledFill[] = [];
    let filled = false;
    const cellStart = Date.now();
    let restarts = 0;
    let cell: Cell | undefined;
    const quiet = await waitForQuiet(this.options.quietWaitSeconds);
    if (quiet.otherCpuPercent !== null && quiet.otherCpuPercent > QUIET_PERCENT) log(`    machine busy: other processes use ${quiet.otherCpuPercent.toFixed(0)}% of a core`);
    const head = { server: kind, transport, connections: n, admins: this.options.admins, stalledRun, srcHash: srcHash(this.options.heraldSrc), quiet };
    try {
      const server = await startServer(kind, { env: heraldEnv(this.options) });
      cell = { server, publisher: createPublisher(server), plan: this.plan(n), connected: 0, stalled: false };
      // One publish with nobody listening, so code paths and the store are warm before the idle baseline.
      await cell.publisher.publish(encodeOrderId(0, ++warmSeq, wallNow()), null);
      const before = await cell.server.mem(true);
      const connect = await this.connectAll(cell, transport);
      const idle = await cell.server.mem(true);
      const idleConnections = await cell.server.connections();
      log(
        `    ${connect.connected.toLocaleString('en-US')} connected (${connect.failed} failed) in ${connect.seconds.toFixed(1)} s, warm in ${connect.warmSeconds.toFixed(1)} s${connect.warmed ? '' : ' (NOT all warmed)'}; ` +
          `server counts ${idleConnections ?? '?'}; heap ${mb(before.heapUsed)} -> ${mb(idle.heapUsed)} (${kb((idle.heapUsed - before.heapUsed) / Math.max(1, connect.connected))}/conn), RSS ${mb(before.rss)} -> ${mb(idle.rss)}`,
      );
      if (connect.errors.length) log(`    connect errors: ${connect.errors.slice(0, 5).join('; ')}`);
      const memory = {
        before,
        idle,
        heapPerConnection: (idle.heapUsed - before.heapUsed) / Math.max(1, connect.connected),
        rssPerConnection: (idle.rss - before.rss) / Math.max(1, connect.connected),
      };
      let dirty = false;
      for (const spec of specs) {
        if (connect.connected === 0) break;
        const saturatedAt = this.options.skipHopeless && typeof spec.rate === 'number' ? hopelessBelow(phases, spec) : undefined;
        if (saturatedAt) {
          const reason = `${saturatedAt.phase} delivered ${num(saturatedAt.achievedDeliveriesPerSecond)}/s, under half of the ${num(saturatedAt.offeredDeliveriesPerSecond)}/s offered`;
          skipped.push({ phase: spec.name, reason, before: phases.length });
          log(`    ${spec.name.padEnd(16)} skipped: ${reason} (--no-skip runs it anyway)`);
          continue;
        }
        let restarted = false;
        if (dirty || (spec.stalled ?? false) !== cell.stalled) {
          // A backlog, or a stalled client to get rid of: only a fresh server is a clean start.
          if (dirty || cell.stalled) {
            cell.stalled = spec.stalled ?? false;
            await this.restart(cell, transport);
            restarts++;
            restarted = true;
          } else {
            cell.stalled = spec.stalled ?? false;
            if (cell.stalled) await this.addStalled(cell, transport);
          }
        }
        if (cell.stalled && (restarted || !filled)) {
          fills.push(await this.fillStalled(cell));
          filled = true;
        }
        const result = await this.runPhase(cell, spec, restarted);
        phases.push(result);
        const open = sum(await Promise.all(this.loads.map((l) => l.warm())), (w) => w.open);
        // Connections the server closed are not reopened in place: a restart gives the next phase the full count.
        dirty = open < cell.connected || (result.backlogAfter && !(await this.settle(cell)));
      }
      const after = await cell.server.mem(true);
      return { ...head, connect, memory: { ...memory, after }, phases, skipped, restarts, seconds: (Date.now() - cellStart) / 1000, ...(stalledRun ? { stalledFills: fills } : {}) };
    } catch (error) {
      log(`    FAILED: ${(error as Error).stack ?? String(error)}`);
      return { ...head, error: (error as Error).message, phases, skipped, restarts, seconds: (Date.now() - cellStart) / 1000, ...(stalledRun ? { stalledFills: fills } : {}) };
    } finally {
      await cell?.server.stop().catch(() => {});
      await Promise.all(this.loads.map((l) => l.close().catch(() => {})));
      await sleep(500);
    }
  }
}

/** CPU time spent by the whole machine so far (all cores, /proc/stat), ms; null where there is no /proc. */
function machineBusyMs(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) * 10; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** A phase of the same kind at a lower rate that delivered under half of what it was offered, if any. */
function hopelessBelow(done: readonly PhaseResult[], spec: PhaseSpec): PhaseResult | undefined {
  return done.find(
    (p) => p.kind === spec.kind && p.stalledClient === (spec.stalled ?? false) && typeof p.rate === 'number' && p.rate < (spec.rate as number) &&
      p.achievedDeliveriesPerSecond < p.offeredDeliveriesPerSecond / 2,
  );
}

const QUIET_PERCENT = 25;

/** Waits (up to `maxSeconds`) for a 2 s window in which the machine's CPU use is below QUIET_PERCENT of a core. */
async function waitForQuiet(maxSeconds: number): Promise<{ otherCpuPercent: number | null; waitedSeconds: number }> {
  const started = Date.now();
  let percent: number | null = null;
  do {
    const a = machineBusyMs();
    await sleep(2000);
    const b = machineBusyMs();
    if (a === null || b === null) return { otherCpuPercent: null, waitedSeconds: 0 };
    percent = ((b - a) / 2000) * 100;
    if (percent < QUIET_PERCENT) break;
  } while (Date.now() - started < maxSeconds * 1000);
  return { otherCpuPercent: percent, waitedSeconds: (Date.now() - started) / 1000 };
}

function srcHash(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) hash.update(path.slice(root.length)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  try {
    walk(root);
    return hash.digest('hex').slice(0, 12);
  } catch {
    return 'unknown';
  }
}

function heraldEnv(options: FanoutOptions): Record<string, string> {
  // Today's defaults would refuse the benchmark's connection counts; every other setting stays at its default.
  const most = Math.max(...options.connections, options.stalledConnections) + options.admins + 100;
  // The publishers here are the load, not a client to throttle: PUBLISH_RATE_PER_TOKEN off.
  return { MAX_CONNECTIONS: String(Math.max(10_000, most * 2)), PUBLISH_RATE_PER_TOKEN: '0', CONNECTION_RATE_PER_IP: '0', BENCH_HERALD_SRC: options.heraldSrc, ...(options.heraldDist ? { BENCH_HERALD_DIST: options.heraldDist } : {}) };
}

const sum = <T>(items: readonly T[], f: (t: T) => number) => items.reduce((s, t) => s + f(t), 0);
function mergeCounts(all: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counts of all) for (const [k, v] of Object.entries(counts)) out[k] = (out[k] ?? 0) + v;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Report

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const num = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const lat = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)) : 'n/a');
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}x` : '-';

function phaseLine(r: PhaseResult): string {
  return (
    `${r.phase.padEnd(16)} published ${r.published}/${r.attempted} (${num(r.publishedPerSecond)}/s${r.publishConcurrency ? `, ${r.publishConcurrency} in flight` : ''})` +
    `${r.unansweredPublishes ? ` ${r.unansweredPublishes} unanswered` : ''}  deliveries ${num(r.received)}/${num(r.expected)}` +
    `${r.complete ? '' : ' INCOMPLETE'}  ${num(r.achievedDeliveriesPerSecond)}/s of ${num(r.offeredDeliveriesPerSecond)}/s offered  ` +
    `p50/p95/p99 ${lat(r.latencyMs.p50)}/${lat(r.latencyMs.p95)}/${lat(r.latencyMs.p99)} ms  server CPU ${r.server.cpuPercent.toFixed(0)}% ` +
    `load CPU ${r.loadCpuPercent.map((c) => `${c.toFixed(0)}%`).join('+')}${r.otherCpuPercent === null ? '' : `  other CPU ${r.otherCpuPercent.toFixed(0)}%`}  RSS ${mb(r.server.rssStart)} -> peak ${mb(r.server.rssPeak)}` +
    `${Object.keys(r.closes).length ? `  closes ${JSON.stringify(r.closes)}` : ''}${r.subscriptionsEnded ? `  ended ${r.subscriptionsEnded}` : ''}` +
    `${r.failedPublishes ? `  publish failures ${r.failedPublishes} (${r.publishErrorSample})` : ''}${r.receiveErrorSample ? `  receive error: ${r.receiveErrorSample}` : ''}`
  );
}

export function report(cells: readonly CellResult[]): string {
  const out: string[] = [];
  const find = (server: ServerKind, c: CellResult) =>
    cells.find((o) => o.server === server && o.transport === c.transport && o.connections === c.connections && o.stalledRun === c.stalledRun);
  const findPhase = (cell: CellResult | undefined, p: PhaseResult) => cell?.phases.find((q) => q.phase === p.phase && q.stalledClient === p.stalledClient);

  const rows: string[][] = [[
    'transport', 'conns', 'phase', 'server', 'published/attempted', 'delivered/expected', 'offered/s', 'achieved/s', 'x raw',
    'p50 ms', 'p95 ms', 'p99 ms', 'p99 x raw', 'srv CPU', 'load CPU', 'other CPU', 'RSS start->peak',
  ]];
  for (const c of cells.filter((c) => !c.stalledRun)) {
    const raw = find('raw', c);
    for (const [i, p] of c.phases.entries()) {
      for (const k of c.skipped.filter((k) => k.before === i)) rows.push([c.transport, num(c.connections), k.phase, c.server, 'skipped (lower rate saturated)']);
      const base = c.server === 'raw' ? undefined : findPhase(raw, p);
      rows.push([
        c.transport, num(c.connections), p.phase, c.server, `${p.published}/${p.attempted}`, `${num(p.received)}/${num(p.expected)}${p.complete ? '' : ' (!)'}`,
        num(p.offeredDeliveriesPerSecond), num(p.achievedDeliveriesPerSecond), ratio(p.achievedDeliveriesPerSecond, base?.achievedDeliveriesPerSecond),
        lat(p.latencyMs.p50), lat(p.latencyMs.p95), lat(p.latencyMs.p99), ratio(p.latencyMs.p99, base?.latencyMs.p99),
        `${p.server.cpuPercent.toFixed(0)}%`, p.loadCpuPercent.map((x) => `${x.toFixed(0)}%`).join('+'), p.otherCpuPercent === null ? '-' : `${p.otherCpuPercent.toFixed(0)}%`, `${mb(p.server.rssStart)} -> ${mb(p.server.rssPeak)}`,
      ]);
    }
    for (const k of c.skipped.filter((k) => k.before >= c.phases.length)) rows.push([c.transport, num(c.connections), k.phase, c.server, 'skipped (lower rate saturated)']);
  }
  if (rows.length > 1) {
    out.push(
      'Deliveries and publish -> receipt latency ((!) = not all delivered within the drain; x raw = Herald / raw baseline;',
      'CPU in % of one core: server, load process(es), other = the rest of the machine during the phase, i.e. noise)',
      table(rows),
    );
  }

  const mem: string[][] = [[
    'transport', 'conns', 'server', 'connected', 'failed', 'connect s', 'heap/conn', 'x raw', 'RSS before', 'RSS idle', 'RSS/conn', 'RSS after run', 'after-before', 'x raw', 'frame B', 'restarts', 'src',
  ]];
  for (const c of cells.filter((c) => !c.stalledRun)) {
    const raw = c.server === 'raw' ? undefined : find('raw', c);
    if (!c.memory || !c.connect) {
      mem.push([c.transport, num(c.connections), c.server, `FAILED: ${c.error ?? '?'}`]);
      continue;
    }
    const grow = (x: CellResult | undefined) => (x?.memory?.after ? x.memory.after.rss - x.memory.before.rss : undefined);
    mem.push([
      c.transport, num(c.connections), c.server, num(c.connect.connected), num(c.connect.failed), c.connect.seconds.toFixed(1), kb(c.memory.heapPerConnection), ratio(c.memory.heapPerConnection, raw?.memory?.heapPerConnection),
      mb(c.memory.before.rss), mb(c.memory.idle.rss), kb(c.memory.rssPerConnection), c.memory.after ? mb(c.memory.after.rss) : '-', grow(c) === undefined ? '-' : mb(grow(c)!),
      ratio(grow(c), grow(raw)), String(Math.max(0, ...c.phases.map((p) => p.frameBytes))), String(c.restarts), c.server === 'raw' ? '-' : c.srcHash,
    ]);
  }
  if (mem.length > 1) out.push('', 'Memory (heap after full GCs in the server; per connection = (idle - before) / connections; after run: after the last phase)', table(mem));

  const stalled = cells.filter((c) => c.stalledRun);
  if (stalled.length) {
    const st: string[][] = [['transport', 'conns', 'server', 'phase', 'p99 without', 'p99 with', 'with/without', 'delivered without', 'delivered with', 'RSS peak without', 'RSS peak with', 'RSS end with', 'server conns at end']];
    for (const c of stalled) {
      for (const w of c.phases.filter((p) => !p.stalledClient && !p.phase.startsWith('warm-up'))) {
        const s = c.phases.find((p) => p.stalledClient && p.phase === w.phase);
        st.push([
          c.transport, num(c.connections), c.server, w.phase, lat(w.latencyMs.p99), s ? lat(s.latencyMs.p99) : '-', ratio(s?.latencyMs.p99, w.latencyMs.p99),
          `${num(w.received)}/${num(w.expected)}`, s ? `${num(s.received)}/${num(s.expected)}` : '-', mb(w.server.rssPeak), s ? mb(s.server.rssPeak) : '-', s ? mb(s.server.rssEnd) : '-',
          s ? String(s.server.connectionsAtEnd ?? '?') : '-',
        ]);
      }
    }
    out.push('', 'Stalled client: the other connections with and without one connection that subscribed and stopped reading', table(st));
    for (const c of stalled) {
      for (const f of c.stalledFills ?? []) {
        out.push(
          `  ${c.transport} ${c.server}: fill ${f.published}/${f.attempted} events in ${f.seconds.toFixed(1)} s (admins ${f.complete ? 'got all' : `got ${num(f.adminDeliveries)}`}), ` +
            `RSS ${mb(f.rssBefore)} -> ${mb(f.rssAfter)}, stalled socket ${f.stalledStillOpen === null ? '?' : f.stalledStillOpen ? 'still open' : 'closed by the server'}, server counts ${f.serverConnectionsAfter ?? '?'}`,
        );
      }
    }
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Entry point

function gitState(): { head?: string; dirty?: string[] } {
  try {
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'schema'], { cwd, encoding: 'utf8' }).split('\n').filter(Boolean);
    return { head, dirty };
  } catch {
    return {};
  }
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<{ cells: CellResult[] }> {
  const options = parseFanoutArgs(argv);
  if (options.runtime === 'build' && options.servers.includes('herald')) options.heraldDist = buildHerald(options.heraldSrc);
  const specs: PhaseSpec[] = [];
  // The phases most likely to leave a backlog (open-loop broadcast above what the server sustains) come last, so a
  // saturated server needs no restart (10k reconnections cost ~15-40 s): saturation is bounded by count and drains.
  if (options.scenarios.has('mix')) specs.push({ name: `mix@${options.mixRate}/s`, kind: 'mix', rate: options.mixRate });
  if (options.scenarios.has('saturation')) specs.push({ name: 'mix@max', kind: 'mix', rate: 'max' });
  if (options.scenarios.has('saturation')) specs.push({ name: 'broadcast@max', kind: 'broadcast', rate: 'max' });
  if (options.scenarios.has('broadcast')) for (const r of options.rates) specs.push({ name: `broadcast@${r}/s`, kind: 'broadcast', rate: r });
  // The lowest rate: latency is only comparable where the server keeps up without the stalled client.
  const minRate = Math.min(...options.rates);
  const stalledSpecs: PhaseSpec[] = [
    // Untimed in the comparison: the first saturation of a fresh server pays for JIT and TCP buffer growth, which
    // would otherwise make "without" look worse than "with".
    { name: 'warm-up broadcast@max', kind: 'broadcast', rate: 'max' },
    { name: `broadcast@${minRate}/s`, kind: 'broadcast', rate: minRate },
    { name: 'broadcast@max', kind: 'broadcast', rate: 'max' },
    { name: `broadcast@${minRate}/s`, kind: 'broadcast', rate: minRate, stalled: true },
    { name: 'broadcast@max', kind: 'broadcast', rate: 'max', stalled: true },
  ];
  const git = gitState();
  log(
    `fan-out bench: connections ${specs.length ? options.connections.join(',') : '-'} (+${options.admins} admins), transports ${options.transports.join(',')}, servers ${options.servers.join(',')}, ` +
      `phases ${specs.map((s) => s.name).join(', ') || '-'}${options.scenarios.has('stalled') ? `, stalled comparison at ${options.stalledConnections}` : ''}; ` +
      `${options.seconds} s each, drain <= ${options.drainSeconds} s, ${options.loadProcs} load process(es); ${cpus().length} CPUs; git ${git.head?.slice(0, 8) ?? '?'}${git.dirty?.length ? ` + ${git.dirty.length} changed files in src/schema` : ''}; Herald from ${options.heraldSrc} (${options.runtime === 'build' ? 'compiled by tsc' : 'tsx'})`,
  );

  const loads = await Promise.all(Array.from({ length: options.loadProcs }, () => startLoad()));
  const run = new FanoutRun(options, loads);
  const cells: CellResult[] = [];
  const started = Date.now();
  try {
    if (specs.length) {
      for (const n of options.connections) {
        for (const transport of options.transports) {
          for (const server of options.servers) cells.push(await run.runCell(server, transport, n, specs));
        }
      }
    }
    if (options.scenarios.has('stalled')) {
      for (const transport of options.transports) {
        for (const server of options.servers) cells.push(await run.runCell(server, transport, options.stalledConnections, stalledSpecs, true));
      }
    }
  } finally {
    for (const l of loads) l.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  log(`\n${report(cells)}\n`);

  mkdirSync(dirname(options.out), { recursive: true });
  const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
  if (!existsSync(`${resultsDir}.gitignore`)) {
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(`${resultsDir}.gitignore`, '*.json\n');
  }
  const meta = {
    date: new Date().toISOString(), seconds, loadAverage: loadavg(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryBytes: totalmem(),
    fdLimit: fdLimit(), git, options: { ...options, scenarios: [...options.scenarios] },
  };
  writeFileSync(options.out, `${JSON.stringify({ meta, cells }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  log(`results: ${options.out} (${seconds.toFixed(0)} s)`);
  return { cells };
}

function fdLimit(): string | undefined {
  try {
    return execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

export type { LoadStats };

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main();
