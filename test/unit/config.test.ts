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

describe('configuration of several instances', () => {
  const base = { JWT_SECRET: 'x' };

  it('refuses REDIS_URL without MONGODB_URL, saying why, without echoing the URL', () => {
    const attempt = () => loadConfig({ ...base, REDIS_URL: 'redis://:hunter2-secret@redis.internal:6379' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/REDIS_URL is set but MONGODB_URL is not: .*SQLite log is local to each instance/);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('reads REDIS_URL, REDIS_CHANNEL and INSTANCE_ID when MONGODB_URL is set', () => {
    const c = loadConfig({ ...base, MONGODB_URL: 'mongodb://db/herald', REDIS_URL: 'redis://cache:6379/2', REDIS_CHANNEL: 'mkt:events', INSTANCE_ID: 'eu-1.a' });
    expect(c.redis).toEqual({ url: 'redis://cache:6379/2', channel: 'mkt:events' });
    expect(c.instanceId).toBe('eu-1.a');
  });

  it('runs as one instance without REDIS_URL, and names each process uniquely by default', () => {
    const c = loadConfig(base);
    expect(c.redis).toBeUndefined();
    expect(c.instanceId).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(loadConfig(base).instanceId).not.toBe(c.instanceId);
    // The bus applies the channel's default: config passes on only what is set.
    expect(loadConfig({ ...base, MONGODB_URL: 'mongodb://db', REDIS_URL: 'redis://cache' }).redis).toEqual({ url: 'redis://cache' });
  });

  it('names an invalid REDIS_URL or INSTANCE_ID without echoing the value', () => {
    const attempt = () => loadConfig({ ...base, MONGODB_URL: 'mongodb://db', REDIS_URL: 'http://user:pa55word@cache', INSTANCE_ID: 'two words' });
    expect(attempt).toThrow(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL.*INSTANCE_ID/);
    try {
      attempt();
    } catch (error) {
      expect((error as Error).message).not.toContain('pa55word');
    }
  });
});
