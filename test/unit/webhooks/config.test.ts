import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { ConfigError } from '../../../src/errors.js';
import { parseDuration } from '../../../src/webhooks/retry-schedule.js';

const base = { NODE_ENV: 'test', JWT_SECRET: 'unit-test-secret', DATA_DIR: '/tmp/herald-unit-never-written' };

describe('webhook configuration', () => {
  it('defaults to the Svix schedule, HTTPS to public hosts only, 50 overall and 5 per endpoint, disabling after 5 days', () => {
    expect(loadConfig(base).webhooks).toEqual({
      retrySchedule: [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      allowHttp: false,
      allowPrivateNetworks: false,
      concurrency: 50,
      endpointConcurrency: 5,
      disableAfterMs: 5 * 86_400_000,
      retryAfterCapMs: 3_600_000,
    });
  });

  it('reads every WEBHOOK_* variable', () => {
    const { webhooks } = loadConfig({
      ...base,
      WEBHOOK_RETRY_SCHEDULE: '0,200ms,1s',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
      WEBHOOK_CONCURRENCY: '8',
      WEBHOOK_ENDPOINT_CONCURRENCY: '2',
      WEBHOOK_DISABLE_AFTER: '3s',
      WEBHOOK_RETRY_AFTER_CAP: '10m',
    });
    expect(webhooks).toEqual({
      retrySchedule: [0, 200, 1000],
      allowHttp: true,
      allowPrivateNetworks: true,
      concurrency: 8,
      endpointConcurrency: 2,
      disableAfterMs: 3000,
      retryAfterCapMs: 600_000,
    });
  });

  it('refuses a malformed schedule or duration, naming the variable', () => {
    expect(() => loadConfig({ ...base, WEBHOOK_RETRY_SCHEDULE: '0,5x' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, WEBHOOK_RETRY_SCHEDULE: '0,5x' })).toThrow(/WEBHOOK_RETRY_SCHEDULE: retry schedule entry #2 "5x"/);
    expect(() => loadConfig({ ...base, WEBHOOK_DISABLE_AFTER: 'soon' })).toThrow(/WEBHOOK_DISABLE_AFTER: "soon" is not a duration/);
    expect(() => loadConfig({ ...base, WEBHOOK_ENDPOINT_CONCURRENCY: '0' })).toThrow(/WEBHOOK_ENDPOINT_CONCURRENCY/);
  });
});

describe('parseDuration', () => {
  it('reads one duration in the retry schedule syntax', () => {
    expect(parseDuration('5d')).toBe(5 * 86_400_000);
    expect(parseDuration(' 750ms ')).toBe(750);
    expect(parseDuration('30')).toBe(30_000);
    expect(() => parseDuration('5 days')).toThrow(ConfigError);
  });
});
