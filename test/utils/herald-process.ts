/**
 * Starts a real Herald in a child process (test/utils/herald-child.ts through tsx) on a free 127.0.0.1 port: for
 * tests of several instances that must not share one event loop, or that kill one with SIGKILL. The same
 * conveniences as test/utils/server.ts (tokens, `gql`), plus the moment each event reached its router.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signDevToken, type SignOptions } from '../../src/auth/tokens.js';
import { TEST_JWT_SECRET, type TestServer } from './server.js';

export interface HeraldProcess extends Pick<TestServer, 'url' | 'graphqlUrl' | 'wsUrl' | 'token' | 'gql'> {
  readonly pid: number;
  /** With `announce`: called as each event reaches the instance's router (epoch ms, comparable across processes). */
  onAnnounce(listener: (eventId: string, at: number) => void): () => void;
  /** Live subscribers on the instance's router now. */
  routerSize(): Promise<number>;
  /** Ends the process with `signal` (SIGKILL: no shutdown at all) and waits for it. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful shutdown), then removes its data directory. */
  stop(): Promise<void>;
}

export interface HeraldProcessOptions {
  readonly env?: Record<string, string>;
  /** Report each event's arrival on the router (`onAnnounce`). @default false */
  readonly announce?: boolean;
}

const START_TIMEOUT_MS = 60_000;
const CHILD = fileURLToPath(new URL('./herald-child.ts', import.meta.url));

export async function startHeraldProcess(options: HeraldProcessOptions = {}): Promise<HeraldProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-proc-'));
  const child: ChildProcess = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
      HERALD_TEST_ANNOUNCE: options.announce ? '1' : '0',
      ...options.env,
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const announceListeners = new Set<(eventId: string, at: number) => void>();
  const answers = new Map<number, (value: number) => void>();
  let asked = 0;
  child.on('message', (m: { announced?: string; at?: number; id?: number; routerSize?: number }) => {
    if (typeof m?.announced === 'string') {
      for (const listener of announceListeners) listener(m.announced, m.at!);
    } else if (typeof m?.id === 'number') {
      answers.get(m.id)?.(m.routerSize!);
      answers.delete(m.id);
    }
  });

  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Herald process did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      void exited.then(() => reject(new Error(`Herald process exited with ${child.exitCode ?? child.signalCode} before listening`)));
      child.on('message', (m: { url?: string }) => {
        if (m?.url) {
          clearTimeout(timer);
          resolve(m.url);
        }
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  const graphqlUrl = `${url}/graphql`;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    pid: child.pid!,
    url,
    graphqlUrl,
    wsUrl: graphqlUrl.replace(/^http/, 'ws'),
    token: (sub: string, role: SignOptions['role'], expiresIn?: SignOptions['expiresIn']) => signDevToken(TEST_JWT_SECRET, { sub, role, expiresIn }),
    async gql(query, variables, bearer) {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as any };
    },
    onAnnounce(listener) {
      announceListeners.add(listener);
      return () => void announceListeners.delete(listener);
    },
    routerSize() {
      const id = ++asked;
      return new Promise<number>((resolve) => {
        answers.set(id, resolve);
        child.send({ ask: 'routerSize', id });
      });
    },
    kill,
    async stop() {
      const forced = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await kill('SIGTERM');
      clearTimeout(forced);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
