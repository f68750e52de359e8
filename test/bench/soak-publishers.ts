/**
 * The soak run's publishers: services calling `publishEvent` (one event) and `publishEvents` (a batch) over HTTP
 * at a steady rate, every event with an idempotency key, retrying the very same request (same keys) through
 * network errors, 5xx and 429 until Herald answers, as a well-behaved producer must. Only answered events are
 * recorded as acknowledged, with the id and cursor of the answer; a request the server never answered before the
 * publisher gave up is counted, not guessed at.
 */
import { examplePayload } from '../../src/events/examples.js';
import { customerId, seqOf, supplierId, type AckedEvent, type SoakType } from './soak-model.js';

export interface PublisherStats {
  calls: number;
  /** Calls answered only after at least one retry. */
  retriedCalls: number;
  retries: number;
  /** Failure kinds seen while retrying: `network`, `http 503`, `RATE_LIMITED`, ... */
  readonly failures: Map<string, number>;
  /** Requests refused for good (a GraphQL error that is not worth retrying) or given up on: each is a FAIL. */
  readonly fatal: string[];
  /** Events in requests given up on (their keys are not in the acknowledged list). */
  abandonedEvents: number;
}

export interface Publishers {
  readonly acked: AckedEvent[];
  readonly stats: PublisherStats;
  /** Stops starting new requests; resolves when every request in flight was answered or given up on. */
  stop(): Promise<void>;
}

export interface PublishersOptions {
  readonly graphqlUrl: string;
  readonly tokens: readonly string[];
  /** Events per second over all publishers. */
  readonly rate: number;
  /** Events in each `publishEvents` call (every other call is a single `publishEvent`). */
  readonly batch: number;
  readonly customers: number;
  readonly suppliers: number;
  /** Give up on one request after retrying it this long. */
  readonly giveUpMs: number;
  readonly random: () => number;
}

const FIELDS = 'id type userId cursor';
const ONE = `mutation($input: PublishEventInput!) { publishEvent(input: $input) { ${FIELDS} } }`;
const MANY = `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { ${FIELDS} } }`;
/** Answers worth the same request again: the server is restarting, draining or overloaded. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(['STORE_UNAVAILABLE', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE', 'SHUTTING_DOWN', 'INTERNAL_SERVER_ERROR']);

interface Planned {
  readonly key: string;
  readonly type: SoakType;
  readonly userId: string | null;
  readonly roles: readonly string[];
  readonly input: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** 45% orders to one supplier, 45% wallet updates to one customer, 5% broadcasts to each role. */
function plan(key: string, options: PublishersOptions): Planned {
  const r = options.random();
  const pick = (n: number) => Math.floor(options.random() * n);
  if (r < 0.45 || (r >= 0.9 && r < 0.95)) {
    const broadcast = r >= 0.9;
    const supplier = supplierId(pick(options.suppliers));
    return {
      key,
      type: 'order_created',
      userId: broadcast ? null : supplier,
      roles: broadcast ? ['supplier'] : [],
      input: {
        type: 'ORDER_CREATED',
        userId: broadcast ? null : supplier,
        roles: broadcast ? ['SUPPLIER'] : undefined,
        source: 'soak-orders',
        data: examplePayload('order_created', { supplierId: supplier }),
        idempotencyKey: key,
      },
    };
  }
  const broadcast = r >= 0.95;
  const customer = customerId(pick(options.customers));
  return {
    key,
    type: 'wallet_updated',
    userId: broadcast ? null : customer,
    roles: broadcast ? ['customer'] : [],
    input: {
      type: 'WALLET_UPDATED',
      userId: broadcast ? null : customer,
      roles: broadcast ? ['CUSTOMER'] : undefined,
      source: 'soak-wallets',
      data: examplePayload('wallet_updated', { ownerId: customer }),
      idempotencyKey: key,
    },
  };
}

type Attempt = { ok: true; events: Array<{ id: string; type: string; userId: string | null; cursor: string }> } | { ok: false; retry: boolean; kind: string; retryAfterMs?: number };

async function attempt(url: string, token: string, batch: readonly Planned[]): Promise<Attempt> {
  const single = batch.length === 1;
  const body = single ? { query: ONE, variables: { input: batch[0]!.input } } : { query: MANY, variables: { inputs: batch.map((p) => p.input) } };
  let response: Response;
  let json: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    json = (await response.json()) as typeof json;
  } catch {
    // Refused, reset, timed out or cut mid-answer: the events may or may not be in the log; the same keys decide.
    return { ok: false, retry: true, kind: 'network' };
  }
  if (json.errors?.length) {
    const code = json.errors[0]!.extensions?.code ?? `http ${response.status}`;
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      ok: false,
      retry: response.status >= 500 || response.status === 429 || RETRYABLE_CODES.has(code),
      kind: `${code}${json.errors[0]!.message ? `: ${json.errors[0]!.message.slice(0, 120)}` : ''}`,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    };
  }
  if (!response.ok) return { ok: false, retry: response.status >= 500 || response.status === 429, kind: `http ${response.status}` };
  const events = (single ? [json.data?.['publishEvent']] : json.data?.['publishEvents']) as Array<{ id: string; type: string; userId: string | null; cursor: string }>;
  return { ok: true, events };
}

export function startPublishers(options: PublishersOptions): Publishers {
  const acked: AckedEvent[] = [];
  const stats: PublisherStats = { calls: 0, retriedCalls: 0, retries: 0, failures: new Map(), fatal: [], abandonedEvents: 0 };
  let stopping = false;
  const perPublisher = options.rate / options.tokens.length;

  const publishUntilAnswered = async (token: string, batch: readonly Planned[]) => {
    const started = Date.now();
    for (let tries = 0; ; tries++) {
      const result = await attempt(options.graphqlUrl, token, batch);
      if (result.ok) {
        stats.calls++;
        if (tries > 0) stats.retriedCalls++;
        if (result.events.length !== batch.length) stats.fatal.push(`asked for ${batch.length} events, the answer has ${result.events.length}`);
        result.events.forEach((event, i) => {
          const asked = batch[i]!;
          acked.push({ key: asked.key, id: event.id, seq: seqOf(event.cursor), type: asked.type, userId: asked.userId, roles: asked.roles });
        });
        return;
      }
      stats.failures.set(result.kind, (stats.failures.get(result.kind) ?? 0) + 1);
      if (!result.retry || Date.now() - started > options.giveUpMs) {
        stats.fatal.push(`${result.retry ? 'gave up on' : 'refused'} ${batch.length} event(s) (${batch[0]!.key}...): ${result.kind}`);
        stats.abandonedEvents += batch.length;
        return;
      }
      stats.retries++;
      await sleep(result.retryAfterMs ?? Math.min(1000, 50 * 2 ** Math.min(tries, 5)) * (0.5 + options.random()));
    }
  };

  const run = async (p: number) => {
    const token = options.tokens[p]!;
    let n = 0;
    let next = Date.now() + options.random() * 200;
    while (!stopping) {
      const size = n % 2 === 0 ? 1 : options.batch;
      const batch = Array.from({ length: size }, (_, i) => plan(`soak-${p}-${n}-${i}`, options));
      n++;
      await publishUntilAnswered(token, batch);
      // Steady rate; after an outage at most one second of backlog is caught up, not the whole gap.
      next = Math.max(next + (size / perPublisher) * 1000, Date.now() - 1000);
      const wait = next - Date.now();
      if (wait > 0 && !stopping) await sleep(wait);
    }
  };
  const running = options.tokens.map((_, p) => run(p));
  return {
    acked,
    stats,
    async stop() {
      stopping = true;
      await Promise.all(running);
    },
  };
}
