/**
 * Starts a real Herald (HTTP + WebSocket on a free 127.0.0.1 port) for integration tests,
 * with its own data directory, and mints tokens for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHerald, type Herald } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { signDevToken, type SignOptions } from '../../src/auth/tokens.js';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface TestServer {
  readonly url: string;
  readonly graphqlUrl: string;
  readonly wsUrl: string;
  readonly dataDir: string;
  readonly config: Config;
  readonly herald: Herald;
  token(sub: string, role: SignOptions['role'], expiresIn?: SignOptions['expiresIn']): string;
  /** POSTs a GraphQL operation; returns the HTTP status and parsed body. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ status: number; body: { data?: T; errors?: any[] } }>;
  /** Stops the server (keeps the data directory unless `removeData`). */
  close(options?: { removeData?: boolean }): Promise<void>;
}

export interface StartOptions {
  /** Reuse a data directory (to test restarts). */
  readonly dataDir?: string;
  readonly env?: Record<string, string>;
  /** Receives the server's log lines (JSON, one per line) instead of stdout. */
  readonly logs?: NodeJS.WritableStream;
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...options.env,
  });
  const herald = await createHerald(config, createLogger(config.logLevel, options.logs));
  const url = await herald.listen();
  const graphqlUrl = `${url}/graphql`;
  const token = (sub: string, role: SignOptions['role'], expiresIn?: SignOptions['expiresIn']) =>
    signDevToken(TEST_JWT_SECRET, { sub, role, expiresIn });
  return {
    url,
    graphqlUrl,
    wsUrl: graphqlUrl.replace(/^http/, 'ws'),
    dataDir,
    config,
    herald,
    token,
    async gql(query, variables, bearer) {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as any };
    },
    async close({ removeData = false } = {}) {
      await herald.close();
      if (removeData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
