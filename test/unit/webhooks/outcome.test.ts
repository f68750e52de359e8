import { describe, expect, it } from 'vitest';
import { decideOutcome } from '../../../src/webhooks/outcome.js';
import { newDelivery, type EndpointId, type WebhookDelivery } from '../../../src/webhooks/model.js';
import type { SendResult } from '../../../src/webhooks/sender.js';
import type { EventId } from '../../../src/events/model.js';

const AT = 1_750_000_000_000;
const schedule = [0, 5_000, 300_000];
const options = { schedule, random: () => 0.5 };
const base = newDelivery({ id: 'whe_1' as EndpointId }, { id: 'evt_1' as EventId, seq: 1, type: 'order_created' }, AT - 1000);
const after = (attempts: number): WebhookDelivery => ({ ...base, attempts, scheduleStep: attempts });

const answer = (status: number, extra: Partial<SendResult> = {}): SendResult => ({
  ok: status >= 200 && status < 300,
  httpStatus: status,
  latencyMs: 42,
  errorKind: status >= 200 && status < 300 ? null : 'http_status',
  error: status >= 200 && status < 300 ? null : `HTTP ${status}`,
  responseBody: 'body',
  ...extra,
});
const failure = (errorKind: SendResult['errorKind'], error: string): SendResult => ({
  ok: false, httpStatus: null, latencyMs: 5000, errorKind, error, responseBody: null,
});

describe('decideOutcome', () => {
  it('marks a 2xx answer succeeded and logs the attempt', () => {
    const outcome = decideOutcome(after(0), answer(204), AT, options);
    expect(outcome.update).toEqual({ status: 'succeeded', attempts: 1, scheduleStep: 1, nextAttemptAt: AT, lastError: null, updatedAt: AT });
    expect(outcome.attempt).toEqual({ deliveryId: base.id, n: 1, at: AT, httpStatus: 204, latencyMs: 42, errorKind: null, error: null, responseBody: 'body' });
    expect(outcome.endpoint).toBe('ok');
  });

  it('schedules the next attempt after a 500 with the scheduled delay', () => {
    const outcome = decideOutcome(after(1), answer(500), AT, options);
    expect(outcome.update).toMatchObject({ status: 'pending', attempts: 2, scheduleStep: 2, nextAttemptAt: AT + 300_000, lastError: 'HTTP 500' });
    expect(outcome.endpoint).toBe('failed');
  });

  it('applies up to ±20 % jitter to the scheduled delay', () => {
    const low = decideOutcome(after(0), answer(500), AT, { schedule, random: () => 0 });
    const high = decideOutcome(after(0), answer(500), AT, { schedule, random: () => 0.999999 });
    expect(low.update.nextAttemptAt).toBe(AT + 4_000);
    expect(high.update.nextAttemptAt).toBe(AT + 6_000);
  });

  it('fails the delivery once the schedule is exhausted', () => {
    const outcome = decideOutcome(after(2), failure('timeout', 'no complete answer within 15000 ms'), AT, options);
    expect(outcome.update).toMatchObject({ status: 'failed', attempts: 3, lastError: 'no complete answer within 15000 ms (gave up after 3 attempts)' });
    expect(outcome.endpoint).toBe('failed');
  });

  it('waits at least Retry-After on 429 and 503, capped', () => {
    const honoured = decideOutcome(after(0), answer(429, { retryAfterMs: 60_000 }), AT, options);
    expect(honoured.update.nextAttemptAt).toBe(AT + 60_000);
    const capped = decideOutcome(after(0), answer(503, { retryAfterMs: 86_400_000 }), AT, { ...options, retryAfterCapMs: 120_000 });
    expect(capped.update.nextAttemptAt).toBe(AT + 120_000);
    const shorter = decideOutcome(after(0), answer(429, { retryAfterMs: 1 }), AT, options);
    expect(shorter.update.nextAttemptAt).toBe(AT + 5_000);
  });

  it('fails at once and signals the endpoint gone on 410', () => {
    const outcome = decideOutcome(after(0), answer(410), AT, options);
    expect(outcome.update).toMatchObject({ status: 'failed', attempts: 1 });
    expect(outcome.update.lastError).toMatch(/gone/);
    expect(outcome.endpoint).toBe('gone');
  });

  it('does not retry a body too large to send', () => {
    expect(decideOutcome(after(0), failure('too_large', 'request body of 2000000 bytes exceeds 1048576'), AT, options).update.status).toBe('failed');
  });

  it('starts a new schedule round after a replay but keeps numbering attempts', () => {
    const replayed: WebhookDelivery = { ...after(3), scheduleStep: 0 };
    const outcome = decideOutcome(replayed, answer(500), AT, options);
    expect(outcome.attempt.n).toBe(4);
    expect(outcome.update).toMatchObject({ status: 'pending', attempts: 4, scheduleStep: 1, nextAttemptAt: AT + 5_000 });
  });
});
