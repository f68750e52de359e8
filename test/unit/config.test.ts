import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_SECRET_FILE, loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

describe('configuration', () => {
  it('refuses to start in production without a secret', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET/);
  });

  it('refuses a short production secret without echoing it', () => {
    try {
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short-secret' });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('short-secret');
    }
  });

  it('generates and keeps a development secret under DATA_DIR', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-config-'));
    const first = loadConfig({ DATA_DIR: dir });
    const second = loadConfig({ DATA_DIR: dir });
    expect(first.jwt.secretSource).toBe('generated');
    expect(second.jwt.secretSource).toBe('dev-file');
    expect(second.jwt.secret).toBe(first.jwt.secret);
    expect(readFileSync(join(dir, DEV_SECRET_FILE), 'utf8').trim()).toBe(first.jwt.secret);
  });

  it('names every invalid variable', () => {
    expect(() => loadConfig({ JWT_SECRET: 'x', PORT: 'eighty', SSE_HEARTBEAT_MS: '60000' })).toThrow(/PORT.*SSE_HEARTBEAT_MS/);
  });

  it('applies documented defaults', () => {
    const c = loadConfig({ JWT_SECRET: 'x' });
    expect(c).toMatchObject({ port: 4000, retentionDays: 90, sseHeartbeatMs: 15000, graphiql: true, publicIntrospection: true });
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(40), NODE_ENV: 'production' }).publicIntrospection).toBe(false);
  });
});
