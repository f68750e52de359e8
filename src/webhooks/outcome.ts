/**
 * What one attempt's result means for its delivery and its endpoint. Pure: the dispatcher applies it.
 * - 2xx: succeeded.
 * - 410 Gone: failed, and the endpoint is to be disabled (its owner removed it).
 * - a body too large to send: failed at once (retrying cannot help).
 * - anything else: retried per the schedule (with jitter; `Retry-After` of a 429/503 lengthens the wait, capped),
 *   failed when the schedule is exhausted (replayable).
 */
import { nextAttemptDelay } from './retry-schedule.js';
import type { DeliveryAttempt, WebhookDelivery } from './model.js';
import type { DeliveryUpdate } from './webhook-store.js';
import type { SendResult } from './sender.js';

/** How the attempt reflects on the endpoint's health. */
export type EndpointSignal = 'ok' | 'failed' | 'gone';

export interface Outcome {
  readonly update: DeliveryUpdate;
  readonly attempt: DeliveryAttempt;
  readonly endpoint: EndpointSignal;
}

export interface OutcomeOptions {
  /** Delays in ms, from `parseRetrySchedule`. */
  readonly schedule: readonly number[];
  /** @default 3_600_000 */
  readonly retryAfterCapMs?: number;
  /** @default Math.random */
  readonly random?: () => number;
}

export function decideOutcome(
  delivery: WebhookDelivery,
  result: SendResult,
  at: number,
  options: OutcomeOptions,
): Outcome {
  const n = delivery.attempts + 1;
  const attempt: DeliveryAttempt = {
    deliveryId: delivery.id,
    n,
    at,
    httpStatus: result.httpStatus,
    latencyMs: result.latencyMs,
    errorKind: result.errorKind,
    error: result.error,
    responseBody: result.responseBody,
  };
  const step = delivery.scheduleStep + 1;
  const base = { attempts: n, scheduleStep: step, updatedAt: at };
  const done = (status: 'succeeded' | 'failed', lastError: string | null, endpoint: EndpointSignal): Outcome => ({
    attempt,
    endpoint,
    update: { ...base, status, nextAttemptAt: at, lastError },
  });

  if (result.ok) return done('succeeded', null, 'ok');
  const error = result.error ?? result.errorKind ?? 'failed';
  if (result.httpStatus === 410) return done('failed', `${error}: the endpoint is gone and was disabled`, 'gone');
  if (result.errorKind === 'too_large') return done('failed', error, 'failed');

  const delay = nextAttemptDelay({
    attempt: step,
    schedule: options.schedule,
    retryAfterMs: result.retryAfterMs,
    retryAfterCapMs: options.retryAfterCapMs,
    random: options.random,
  });
  if (delay === null) return done('failed', `${error} (gave up after ${step} attempts)`, 'failed');
  return { attempt, endpoint: 'failed', update: { ...base, status: 'pending', nextAttemptAt: at + delay, lastError: error } };
}
