/**
 * Herald in its own process (`src/main.ts`) on a fixed 127.0.0.1 port and data directory, so a test can SIGKILL
 * it and start it again on the same port and data, as a crash and restart would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signDevToken, type SignOptions } from '../../src/auth/tokens.js';
import { TEST_JWT_SECRET } from './server.js';
import { waitFor } from './deferred.js';
import { freePort } from './ports.js';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface ChildServer {
  readonly port: number;
  readonly url: string;
  readonly graphqlUrl: string;
  readonly dataDir: string;
  token(sub: string, role: SignOptions['role'], expiresIn?: SignOptions['expiresIn']): string;
  /** Starts the process (again) and resolves once /health/live answers. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown, no close frames; the kernel resets the sockets. `SIGTERM`: a graceful shutdown. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Kills it if running and removes the data directory. */
  dispose(): Promise<void>;
}

export { freePort };

export interface ChildServerOptions {
  /** Receives the server's stdout (its JSON log lines), chunk by chunk. @default ignored */
  readonly stdout?: (chunk: string) => void;
  /** Receives its stderr (e.g. the inspector's "Debugger listening on ws://…"), chunk by chunk. */
  readonly stderr?: (chunk: string) => void;
  /** Node options before the entry point (e.g. `--inspect=127.0.0.1:0`). @default none */
  readonly nodeArgs?: readonly string[];
}

export async function createChildServer(env: Record<string, string> = {}, options: ChildServerOptions = {}): Promise<ChildServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-child-'));
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const stderr: string[] = [];

  const kill = (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL') =>
    new Promise<void>((resolve) => {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return resolve();
      running.once('exit', () => resolve());
      running.kill(signal);
    });

  return {
    port,
    url,
    graphqlUrl: `${url}/graphql`,
    dataDir,
    token: (sub, role, expiresIn) => signDevToken(TEST_JWT_SECRET, { sub, role, expiresIn }),
    async start() {
      stderr.length = 0;
      const started = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts'], {
        cwd: ROOT,
        env: {
          PATH: process.env['PATH'],
          NODE_ENV: 'test',
          LOG_LEVEL: 'warn',
          JWT_SECRET: TEST_JWT_SECRET,
          DATA_DIR: dataDir,
          PORT: String(port),
          HOST: '127.0.0.1',
          ...env,
        },
        stdio: ['ignore', options.stdout ? 'pipe' : 'ignore', 'pipe'],
      });
      child = started;
      if (options.stdout) started.stdout!.on('data', (chunk: Buffer) => options.stdout!(chunk.toString()));
      started.stderr!.on('data', (chunk: Buffer) => {
        stderr.push(chunk.toString());
        options.stderr?.(chunk.toString());
      });
      let exited = false;
      started.once('exit', () => (exited = true));
      await waitFor(
        async () => {
          if (exited) throw new Error(`Herald exited during start-up: ${stderr.join('')}`);
          try {
            return (await fetch(`${url}/health/live`)).ok;
          } catch {
            return false;
          }
        },
        30_000,
        `Herald on port ${port}`,
      );
    },
    kill,
    async dispose() {
      await kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
