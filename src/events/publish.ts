/**
 * Publishing: validate -> write to the log (durable) -> announce on the bus. An event is
 * acknowledged only after the store has written it.
 */
import { getSpec, isEventType, LEVELS, roleMayReceive, ROLES, type EventLevel, type EventTypeName, type Role } from './catalogue.js';
import type { EventStore } from './event-store.js';
import type { EventBus } from './event-bus.js';
import type { HeraldEvent, NewEvent, Viewer } from './model.js';
import type { PayloadValidator } from './payload-validator.js';
import { newEventId } from './ids.js';
import { ForbiddenError, RateLimitError, ValidationError } from '../errors.js';
import { createRateLimiter } from './rate-limiter.js';

export interface PublishInput {
  readonly type: EventTypeName;
  readonly userId?: string | null;
  readonly roles?: readonly Role[] | null;
  readonly level?: EventLevel | null;
  readonly source: string;
  readonly data: unknown;
  readonly idempotencyKey?: string | null;
}

export interface Publisher {
  /** Publishes one event on behalf of `by` (a service or admin). */
  publish(input: PublishInput, by?: Viewer): Promise<HeraldEvent>;
  /** All inputs are validated first: one invalid input rejects the whole call. */
  publishMany(inputs: readonly PublishInput[], by?: Viewer): Promise<HeraldEvent[]>;
}

export interface PublisherOptions {
  readonly store: EventStore;
  readonly bus: EventBus;
  readonly validator: PayloadValidator;
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * Events one publishing token (role + subject) may publish per second, with a burst (PUBLISH_RATE_PER_TOKEN,
   * PUBLISH_BURST_PER_TOKEN); over it, RATE_LIMITED (429, Retry-After). Each event of a batch counts. Off when unset.
   */
  readonly rate?: { readonly perSecond: number; readonly burst: number };
  /** Told about every call refused by the rate (metrics), before it rejects. @default none */
  readonly onRateLimited?: () => void;
  /** Called after events are committed and announced (metrics, webhooks). */
  readonly onCommitted?: (events: readonly HeraldEvent[]) => void;
  /**
   * Told about every input refused by validation (for `event_errors`). Called synchronously before the
   * call rejects; whatever it throws is ignored. @default none
   */
  readonly onRejected?: (rejection: PublishRejection) => void;
}

/** An input refused by validation, as `onRejected` sees it. */
export interface PublishRejection {
  /** The input's `source`, when it is a string (possibly not a valid one). */
  readonly source: string | null;
  /** The input's `type`, when it is a string. */
  readonly type: string | null;
  /** The offending field path, e.g. `data.amount` or `inputs[3].source`. */
  readonly field: string | null;
  readonly message: string;
}

const SOURCE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/;
const MAX_ID = 200;
const PUBLISHERS: ReadonlySet<Role> = new Set(['service', 'admin']);

function fail(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, { details: { field: path } });
}

function normalize(input: PublishInput, path: string, now: number, validator: PayloadValidator): NewEvent {
  if (typeof input.type !== 'string' || !isEventType(input.type)) fail(`${path}type`, `unknown event type ${JSON.stringify(input.type)}`);
  const spec = getSpec(input.type);
  if (typeof input.source !== 'string' || !SOURCE.test(input.source)) {
    fail(`${path}source`, 'must be 1-100 characters of letters, digits and . _ : / - (e.g. "orders-service")');
  }
  const userId = input.userId ?? null;
  if (userId !== null && (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_ID)) {
    fail(`${path}userId`, `must be a non-empty string of at most ${MAX_ID} characters`);
  }
  const roles = input.roles?.length ? [...new Set(input.roles)] : [];
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role)) fail(`${path}roles`, `unknown role ${JSON.stringify(role)}`);
    if (!roleMayReceive(role, input.type)) fail(`${path}roles`, `role ${role} may not receive ${input.type}`);
  }
  const level = input.level ?? spec.defaultLevel;
  if (!(LEVELS as readonly string[]).includes(level)) fail(`${path}level`, `unknown level ${JSON.stringify(level)}`);
  const key = input.idempotencyKey ?? null;
  if (key !== null && (typeof key !== 'string' || key.length === 0 || key.length > MAX_ID)) {
    fail(`${path}idempotencyKey`, `must be a non-empty string of at most ${MAX_ID} characters`);
  }
  let data: Record<string, unknown>;
  try {
    data = validator.validate(input.type, input.data);
  } catch (error) {
    if (error instanceof ValidationError && path) {
      throw new ValidationError(`${path}${error.message}`, { details: { field: `${path}${String(error.details?.['field'] ?? 'data')}` } });
    }
    throw error;
  }
  const deliveryId = typeof data['deliveryId'] === 'string' ? data['deliveryId'] : null;
  return { id: newEventId(now), type: input.type, level, userId, roles, source: input.source, timestamp: now, data, deliveryId, idempotencyKey: key };
}

export function createPublisher(options: PublisherOptions): Publisher {
  const limiter = options.rate && options.rate.perSecond > 0 ? createRateLimiter({ ratePerSecond: options.rate.perSecond, burst: options.rate.burst, now: options.now }) : undefined;
  const { store, bus, validator, onCommitted } = options;
  const now = options.now ?? Date.now;

  const rejected = (input: PublishInput | undefined, error: ValidationError) => {
    if (!options.onRejected) return;
    const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 200) : null);
    const field = error.details?.['field'];
    try {
      options.onRejected({ source: text(input?.source), type: text(input?.type), field: text(field), message: error.message });
    } catch {
      // observers never change the outcome of a publish
    }
  };

  const publishMany = async (inputs: readonly PublishInput[], by?: Viewer): Promise<HeraldEvent[]> => {
    if (by && !PUBLISHERS.has(by.role)) {
      throw new ForbiddenError(`Role ${by.role} may not publish events: only service and admin tokens can`);
    }
    if (inputs.length === 0) return [];
    if (limiter && by) {
      const waitMs = limiter.take(`${by.role}:${by.userId}`, Math.min(inputs.length, options.rate!.burst));
      if (waitMs > 0) {
        options.onRateLimited?.();
        throw new RateLimitError(`Publishing faster than ${options.rate!.perSecond} events/s for this token (PUBLISH_RATE_PER_TOKEN); retry after the delay`, waitMs);
      }
    }
    if (inputs.length > 1000) {
      const error = new ValidationError('inputs: at most 1000 events per call', { details: { field: 'inputs' } });
      rejected(inputs[0], error);
      throw error;
    }
    const at = now();
    const single = inputs.length === 1;
    const events = inputs.map((input, i) => {
      try {
        return normalize(input, single ? '' : `inputs[${i}].`, at, validator);
      } catch (error) {
        if (error instanceof ValidationError) rejected(input, error);
        throw error;
      }
    });
    const results = await store.append(events);
    const fresh = results.filter((r) => !r.duplicate).map((r) => r.event);
    if (fresh.length) {
      bus.publish(fresh);
      onCommitted?.(fresh);
    }
    return results.map((r) => r.event);
  };

  return {
    publishMany,
    async publish(input, by) {
      const [event] = await publishMany([input], by);
      return event!;
    },
  };
}
