/**
 * The Herald the soak run crashes: `dist/src/main.js` (or src/main.ts through tsx) in a process of its own, on one
 * fixed 127.0.0.1 port and one data directory (or MongoDB database) for its whole life, so a SIGKILL followed by
 * `start()` is a crash and restart as an operator would see it. Its RSS is read from /proc/<pid>/status every
 * few seconds, per incarnation, without asking the process (a SIGKILLed one cannot answer); beside it the V8 heap in
 * use, from the process's own /metrics (`herald_nodejs_heap_size_used_bytes`), so growth of the heap can be told
 * from growth of native memory (SQLite's page cache, buffers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../utils/deferred.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RssSample {
  /** Seconds since the run started. */
  readonly t: number;
  /** 1 for the first process, 2 after the first restart, ... */
  readonly incarnation: number;
  readonly rssBytes: number;
  /** V8 heap in use at about the same moment, when /metrics answered. */
  heapUsedBytes?: number;
}

export interface SoakServer {
  readonly url: string;
  readonly graphqlUrl: string;
  readonly pid: number | undefined;
  readonly incarnation: number;
  readonly rss: readonly RssSample[];
  /** Starts the process (again) and resolves once /ready answers 200. */
  start(): Promise<void>;
  /** SIGKILL (a crash: no shutdown, sockets reset by the kernel) or SIGTERM (graceful); resolves when it exited. */
  kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops sampling and SIGKILLs the process if it still runs. */
  dispose(): Promise<void>;
}

export interface SoakServerOptions {
  readonly port: number;
  readonly env: Record<string, string>;
  /** A compiled `src/` directory (build.ts), or undefined for src/main.ts through tsx. */
  readonly distDir?: string;
  /** Extra Node options for the server, e.g. `--max-old-space-size=96`. */
  readonly nodeArgs?: readonly string[];
  readonly sampleEveryMs: number;
  /** Bearer token of /metrics, for the heap samples. */
  readonly metricsToken: string;
  /** The run's start (performance-free wall clock), for sample times. */
  readonly startedAt: number;
  readonly onStderr?: (line: string) => void;
  /** Longest wait for /ready after a start. @default 60000 */
  readonly readyTimeoutMs?: number;
}

/** VmRSS of a live process in bytes, or undefined once it is gone. */
function readRss(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

export function createSoakServer(options: SoakServerOptions): SoakServer {
  const url = `http://127.0.0.1:${options.port}`;
  let child: ChildProcess | undefined;
  let incarnation = 0;
  const rss: RssSample[] = [];
  const sample = () => {
    const pid = child?.pid;
    const bytes = pid === undefined ? undefined : readRss(pid);
    if (bytes === undefined) return;
    const taken: RssSample = { t: (Date.now() - options.startedAt) / 1000, incarnation, rssBytes: bytes };
    rss.push(taken);
    void fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${options.metricsToken}` }, signal: AbortSignal.timeout(2000) })
      .then((response) => response.text())
      .then((text) => {
        const heap = /^herald_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1];
        if (heap !== undefined) taken.heapUsedBytes = Number(heap);
      })
      .catch(() => {});
  };
  const timer = setInterval(sample, options.sampleEveryMs);
  timer.unref();

  return {
    url,
    graphqlUrl: `${url}/graphql`,
    get pid() {
      return child?.pid;
    },
    get incarnation() {
      return incarnation;
    },
    rss,
    async start() {
      const args = [...(options.nodeArgs ?? []), ...(options.distDir ? ['--enable-source-maps', join(options.distDir, 'main.js')] : ['--import', 'tsx', 'src/main.ts'])];
      const started = spawn(process.execPath, args, {
        cwd: ROOT,
        env: { PATH: process.env['PATH'], HOST: '127.0.0.1', PORT: String(options.port), ...options.env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child = started;
      incarnation++;
      const stderr: string[] = [];
      started.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        stderr.push(chunk);
        for (const line of chunk.split('\n')) if (line.trim()) options.onStderr?.(line);
      });
      let exited = false;
      started.once('exit', () => (exited = true));
      await waitFor(
        async () => {
          if (exited) throw new Error(`Herald exited during start-up: ${stderr.join('').slice(-2000)}`);
          try {
            return (await fetch(`${url}/ready`, { signal: AbortSignal.timeout(5000) })).ok;
          } catch {
            return false;
          }
        },
        options.readyTimeoutMs ?? 60_000,
        `Herald ready on port ${options.port}`,
      );
      sample();
    },
    kill(signal) {
      const running = child;
      return new Promise((resolve) => {
        if (!running || running.exitCode !== null || running.signalCode !== null) return resolve({ code: running?.exitCode ?? null, signal: running?.signalCode ?? null });
        running.once('exit', (code, sig) => resolve({ code, signal: sig }));
        running.kill(signal);
      });
    },
    async dispose() {
      clearInterval(timer);
      const running = child;
      if (running && running.exitCode === null && running.signalCode === null) {
        await new Promise<void>((resolve) => {
          running.once('exit', () => resolve());
          running.kill('SIGKILL');
        });
      }
    },
  };
}
