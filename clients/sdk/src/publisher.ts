/**
 * `createHeraldPublisher`: how a backend service publishes events, typed per event type from the schema (a wrong
 * payload field fails to compile). Every publish carries an idempotency key (generated when not given), so a
 * retry after a network error or a 5xx can never log an event twice: the hub answers a repeated key with the
 * event it logged first. `publishMany` splits into calls the hub accepts (at most 1000 inputs per call, and a
 * body under `MAX_REQUEST_BYTES`).
 */
import { backoffDelay } from './backoff.js';
import { HeraldError, type HeraldErrorOptions } from './errors.js';
import type { EventTypeName, PayloadMap } from './generated/events.js';
import type { EventLevel, Role } from './generated/schema.js';
import { postGraphQL } from './http.js';
import { globalFetch, randomId, sleep, type FetchLike } from './runtime.js';

export interface HeraldPublisherOptions {
  /** The hub's GraphQL URL, `http(s)://host/graphql`. */
  readonly url: string;
  /** A `service` (or `admin`) token. */
  readonly token?: string;
  /** Asked before every request (return a valid token; it is asked again after a 401). */
  readonly getToken?: () => string | Promise<string>;
  /** The publishing service's name, e.g. `orders-service` (`PublishEventInput.source`). */
  readonly source: string;
  /** @default globalThis.fetch */
  readonly fetch?: FetchLike;
  /** Retries after a network error, a 5xx or `STORE_UNAVAILABLE`, before the error is thrown. @default 10 */
  readonly maxRetries?: number;
  /** Upper bound of the first retry delay (full jitter). @default 250 */
  readonly initialRetryDelayMs?: number;
  /** Cap of retry delays. @default 10000 */
  readonly maxRetryDelayMs?: number;
  /** One request's time limit; past it the request counts as a network error (and is retried). @default 15000 */
  readonly timeoutMs?: number;
  /** Inputs per `publishEvents` call: the hub's limit (src/events/publish.ts). @default 1000 */
  readonly maxBatchSize?: number;
  /** Request body bytes per call, under the hub's `MAX_REQUEST_BYTES` (1 MiB by default). @default 900000 */
  readonly maxBatchBytes?: number;
  /** Prefix of generated idempotency keys (keys are global across services). @default `${source}:` */
  readonly idempotencyKeyPrefix?: string;
}

export interface PublishOptions {
  /** The user the event is addressed to. */
  readonly userId?: string | null;
  /** Role broadcast. */
  readonly roles?: readonly Role[];
  /** @default the type's level in the catalogue */
  readonly level?: EventLevel;
  /** The same key published twice yields one event. @default `${source}:<random uuid>` */
  readonly idempotencyKey?: string;
  /** Overrides the publisher's `source` for this event. */
  readonly source?: string;
}

/** One input of `publishMany`: `type` decides what `payload` must be. */
export type PublishItem = {
  [T in EventTypeName]: PublishOptions & { readonly type: T; readonly payload: PayloadMap[T] };
}[EventTypeName];

/** What the hub answers for a published event. */
export interface PublishedEvent<T extends EventTypeName = EventTypeName> {
  readonly id: string;
  readonly type: T;
  readonly level: EventLevel;
  readonly userId: string | null;
  readonly roles: readonly Role[];
  readonly source: string;
  readonly timestamp: string;
  readonly cursor: string;
}

/** `publishMany` failed part way: the chunks before the failing one are logged (`published`). */
export class PublishManyError extends HeraldError {
  readonly published: readonly PublishedEvent[];

  constructor(error: HeraldError, published: readonly PublishedEvent[]) {
    const options: HeraldErrorOptions = { status: error.status, field: error.field, errors: error.errors, cause: error };
    super(error.code, `${error.message} (${published.length} events of earlier chunks were published)`, options);
    this.published = published;
  }
}

export interface HeraldPublisher {
  /**
   * Publishes one event; resolves once the hub has logged it.
   * @example await publisher.publish('ORDER_CREATED', { orderId: 'ord_1', ... }, { userId: 'cus_1' });
   */
  publish<T extends EventTypeName>(type: T, payload: PayloadMap[T], options?: PublishOptions): Promise<PublishedEvent<T>>;
  /**
   * Publishes many, in order, in as few calls as the hub's limits allow. Each call is all-or-nothing for
   * validation; when one fails, `PublishManyError.published` holds what earlier calls logged. Calling again
   * with the same idempotency keys is safe.
   */
  publishMany(items: readonly PublishItem[]): Promise<PublishedEvent[]>;
}

const FIELDS = 'id type level userId roles source timestamp cursor';
const PUBLISH = `mutation HeraldPublish($input: PublishEventInput!) { publishEvent(input: $input) { ${FIELDS} } }`;
const PUBLISH_MANY = `mutation HeraldPublishMany($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { ${FIELDS} } }`;
/** The request around the inputs: query text, JSON punctuation. */
const ENVELOPE_BYTES = PUBLISH_MANY.length + 64;

/** UTF-8 length of a string, without an encoder. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * A publisher for one service. Throws `TypeError` without a token source or `source`; `publish` and
 * `publishMany` reject with `HeraldError` once retrying cannot help.
 * @example
 * const herald = createHeraldPublisher({ url: 'http://herald:4000/graphql', token: serviceToken, source: 'orders-service' });
 * await herald.publish('ORDER_READY', { orderId, customerId, supplierId, packageCount: 2 }, { userId: customerId });
 */
export function createHeraldPublisher(options: HeraldPublisherOptions): HeraldPublisher {
  if (!options.token && !options.getToken) throw new TypeError('createHeraldPublisher: pass `token` or `getToken`');
  if (!options.source) throw new TypeError('createHeraldPublisher: pass `source` (the publishing service, e.g. "orders-service")');
  const fetchImpl = options.fetch ?? globalFetch();
  const maxRetries = options.maxRetries ?? 10;
  const backoff = { initialDelayMs: options.initialRetryDelayMs ?? 250, maxDelayMs: options.maxRetryDelayMs ?? 10_000 };
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxBatchSize = options.maxBatchSize ?? 1000;
  const maxBatchBytes = options.maxBatchBytes ?? 900_000;
  const keyPrefix = options.idempotencyKeyPrefix ?? `${options.source}:`;

  const token = async () => {
    try {
      return options.getToken ? await options.getToken() : options.token;
    } catch (error) {
      throw new HeraldError('TOKEN_UNAVAILABLE', `getToken() failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  };

  /** One request, retried while the failure is retryable; a 401 with `getToken` gets one fresh-token retry. */
  async function send<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await postGraphQL<T>({ query, variables }, { url: options.url, token: await token(), fetch: fetchImpl, timeoutMs });
      } catch (error) {
        if (!(error instanceof HeraldError)) throw error;
        if (error.status === 401 && options.getToken && !refreshed) {
          refreshed = true;
          continue;
        }
        if (!error.retryable || attempt >= maxRetries) throw error;
        await sleep(backoffDelay(attempt, backoff));
      }
    }
  }

  const toInput = (type: EventTypeName, payload: unknown, publishOptions: PublishOptions = {}) => ({
    type,
    source: publishOptions.source ?? options.source,
    data: payload,
    idempotencyKey: publishOptions.idempotencyKey ?? `${keyPrefix}${randomId()}`,
    ...(publishOptions.userId !== undefined ? { userId: publishOptions.userId } : {}),
    ...(publishOptions.roles ? { roles: publishOptions.roles } : {}),
    ...(publishOptions.level ? { level: publishOptions.level } : {}),
  });

  return {
    async publish(type, payload, publishOptions) {
      const data = await send<{ publishEvent: PublishedEvent }>(PUBLISH, { input: toInput(type, payload, publishOptions) });
      return data.publishEvent as PublishedEvent<typeof type>;
    },
    async publishMany(items) {
      // Keys are fixed before the first call, so a retried chunk carries the same ones.
      const inputs = items.map((item) => toInput(item.type, item.payload, item));
      const chunks: (typeof inputs)[] = [];
      let chunk: typeof inputs = [];
      let bytes = ENVELOPE_BYTES;
      for (const input of inputs) {
        const size = utf8Length(JSON.stringify(input)) + 1;
        if (chunk.length > 0 && (chunk.length >= maxBatchSize || bytes + size > maxBatchBytes)) {
          chunks.push(chunk);
          chunk = [];
          bytes = ENVELOPE_BYTES;
        }
        chunk.push(input);
        bytes += size;
      }
      if (chunk.length) chunks.push(chunk);
      const published: PublishedEvent[] = [];
      for (const part of chunks) {
        try {
          const data = await send<{ publishEvents: PublishedEvent[] }>(PUBLISH_MANY, { inputs: part });
          published.push(...data.publishEvents);
        } catch (error) {
          if (error instanceof HeraldError && published.length > 0) throw new PublishManyError(error, published);
          throw error;
        }
      }
      return published;
    },
  };
}
