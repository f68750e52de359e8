/**
 * A Redis for integration tests: Debian's `redis-server` on a free 127.0.0.1 port, without persistence, in a
 * temporary directory. `kill` then `start` restart it on the same port (what a Redis restart looks like to the
 * bus). Without the binary this is a reason to skip, except where HERALD_REQUIRE_REDIS=1 (`.ci/run` sets it after
 * installing redis-server): there a missing binary fails the run instead of skipping the tests silently.
 * Call once per test file (top-level await) and `stop` it in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './ports.js';

export interface TestRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** SIGKILL: every connection drops at once; nothing is kept (no persistence). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Extra `redis-server` arguments, e.g. `['--requirepass', 'pw']`. */
  readonly args?: readonly string[];
}

export const NO_REDIS_MESSAGE = 'No redis-server on PATH (apt-get install -y redis-server) — Redis event bus tests skipped';

const START_TIMEOUT_MS = 10_000;

export async function startRedisForTests(options: RedisServerOptions = {}): Promise<TestRedis | { skip: string }> {
  const binary = findRedisServer();
  if (!binary) {
    if (process.env['HERALD_REQUIRE_REDIS'] === '1') throw new Error(`${NO_REDIS_MESSAGE}; HERALD_REQUIRE_REDIS=1 makes that a failure`);
    return { skip: NO_REDIS_MESSAGE };
  }
  let lastError: unknown;
  // The free port can be taken between probing and binding: retry on a new one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const server = new RedisProcess(binary, port, options.args ?? []);
    try {
      await server.start();
      return server;
    } catch (error) {
      lastError = error;
      await server.stop();
    }
  }
  throw lastError;
}

class RedisProcess implements TestRedis {
  readonly url: string;
  private readonly dir = mkdtempSync(join(tmpdir(), 'herald-redis-'));
  private child: ChildProcess | undefined;

  constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly args: readonly string[],
  ) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('redis-server is already running');
    const logFile = join(this.dir, 'redis.log');
    const child = spawn(
      this.binary,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--logfile', logFile, ...this.args],
      { stdio: 'ignore' },
    );
    this.child = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}):\n${tail(logFile)}`))),
    );
    exited.catch(() => {});
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const answered = await Promise.race([ping(this.port), exited]);
      if (answered) return;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer PING within ${START_TIMEOUT_MS} ms:\n${tail(logFile)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether a Redis answers PING on 127.0.0.1:port (false when nothing listens yet). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += String(chunk);
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

function findRedisServer(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    return '';
  }
}
