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

describe('configuration of the rate limits', () => {
  const base = { JWT_SECRET: 'x' };

  it('applies the connection and subscribe rate defaults and reads overrides', () => {
    const c = loadConfig(base);
    expect(c.limits.connectionRate).toEqual({ perSecond: 50, burst: 200 });
    expect(c.limits.subscribeRate).toEqual({ perSecond: 10, burst: 100 });
    expect(c.trustedProxies).toEqual([]);
    const set = loadConfig({ ...base, CONNECTION_RATE_PER_IP: '0.5', SUBSCRIBE_RATE_PER_CONNECTION: '0', TRUSTED_PROXIES: ' 10.0.0.0/8 , ::1,192.0.2.7' });
    expect(set.limits.connectionRate.perSecond).toBe(0.5);
    expect(set.limits.subscribeRate.perSecond).toBe(0);
    expect(set.trustedProxies).toEqual(['10.0.0.0/8', '::1', '192.0.2.7']);
  });

  it.each(['proxy.internal', '10.0.0.0/33', '::1/129', '10.0.0.1/8/1', '999.1.1.1'])('refuses TRUSTED_PROXIES entry %j', (entry) => {
    expect(() => loadConfig({ ...base, TRUSTED_PROXIES: `127.0.0.1,${entry}` })).toThrow(/TRUSTED_PROXIES: .* is not an IP address or CIDR/);
  });

  it('refuses a negative rate and a burst of zero', () => {
    expect(() => loadConfig({ ...base, CONNECTION_RATE_PER_IP: '-1' })).toThrow(/CONNECTION_RATE_PER_IP/);
    expect(() => loadConfig({ ...base, SUBSCRIBE_BURST_PER_CONNECTION: '0' })).toThrow(/SUBSCRIBE_BURST_PER_CONNECTION/);
  });
});
