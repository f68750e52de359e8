/**
 * The one configuration loader: defaults -> environment, validated once at start-up.
 * Nothing else reads `process.env`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { WebhookSettings } from './webhooks/webhooks.js';
import { DEFAULT_RETRY_SCHEDULE, parseDuration, parseRetrySchedule } from './webhooks/retry-schedule.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A value parsed by one of the webhook duration parsers, their ConfigError message becoming a zod issue. */
const parsedWith = <T>(parse: (spec: string) => T, defaultSpec: string) =>
  z.string().default(defaultSpec).transform((value, ctx) => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

/** `10.0.0.1`, `::1`, `10.0.0.0/8`, `fd00::/8`. */
function isAddressOrCidr(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** @default 4000 */
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** @default '0.0.0.0' */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** @default 'info' ('silent' in tests) */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  /** HS256 shared secret. Required in production unless JWT_PUBLIC_KEY is set. */
  JWT_SECRET: z.string().min(1).optional(),
  /** PEM public key for RS256/ES256 tokens. */
  JWT_PUBLIC_KEY: z.string().min(1).optional(),
  /** Expected `iss` claim, when set. */
  JWT_ISSUER: z.string().min(1).optional(),
  /** Expected `aud` claim, when set. */
  JWT_AUDIENCE: z.string().min(1).optional(),
  /** Where the embedded store keeps its files. @default './data' */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Selects the MongoDB store when set. */
  MONGODB_URL: z.string().min(1).optional(),
  /** Redis between instances (pub/sub) when set; requires MONGODB_URL. Never echoed: it may hold a password. */
  REDIS_URL: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional(),
  /** Pub/sub channel the instances share. @default 'herald:events' (applied by the Redis bus) */
  REDIS_CHANNEL: z.string().min(1).max(256).regex(/^\S+$/, 'must not contain whitespace').optional(),
  /** This instance's name among the instances: unique per process. @default `<hostname>-<pid>-<random>` */
  INSTANCE_ID: z.string().min(1).max(128).regex(/^[\w.:-]+$/, 'letters, digits and . _ : - only').optional(),
  /** @default 90 */
  EVENT_LOG_RETENTION_DAYS: z.coerce.number().positive().max(36500).default(90),
  /** Comment line sent on idle SSE streams, at most every 15 s. @default 15000 */
  SSE_HEARTBEAT_MS: z.coerce.number().int().min(1000).max(15000).default(15000),
  /** graphql-ws ping interval. @default 12000 */
  WS_KEEPALIVE_MS: z.coerce.number().int().min(1000).max(60000).default(12000),
  /** On SIGTERM/SIGINT: how long in-flight requests and webhook attempts may take. @default 10000 */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** Bearer token `/metrics` requires (16+ characters). @default unset: open, off in production */
  METRICS_TOKEN: z.string().min(16).optional(),
  /** Events per second one publishing token may publish; 0 = off. @default 2000 */
  PUBLISH_RATE_PER_TOKEN: z.coerce.number().int().min(0).max(1_000_000).default(2000),
  /** Events a quiet publishing token may publish at once. @default 10000 */
  PUBLISH_BURST_PER_TOKEN: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** New live connections (WebSocket upgrades + SSE streams) per client IP per second; 0 = off. @default 50 */
  CONNECTION_RATE_PER_IP: z.coerce.number().min(0).max(1_000_000).default(50),
  /** New live connections a quiet client IP may open at once (a reconnect wave behind one NAT). @default 200 */
  CONNECTION_BURST_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(200),
  /**
   * Proxies whose `X-Forwarded-For` names the client (comma-separated IPs or CIDRs, e.g. `10.0.0.0/8,::1`). Unset: the
   * header is ignored and the client is the TCP peer. @default unset
   */
  TRUSTED_PROXIES: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const list = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      for (const entry of list) {
        if (!isAddressOrCidr(entry)) ctx.addIssue({ code: 'custom', message: `"${entry.slice(0, 60)}" is not an IP address or CIDR` });
      }
      return list;
    }),
  /** graphql-ws `subscribe` messages one connection may send per second; 0 = off. @default 10 */
  SUBSCRIBE_RATE_PER_CONNECTION: z.coerce.number().min(0).max(1_000_000).default(10),
  /** `subscribe` messages a quiet connection may send at once (a reconnect resubscribing everything). @default 100 */
  SUBSCRIBE_BURST_PER_CONNECTION: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /** Time allowed between opening a WebSocket and its `connection_init` (4408 after it). @default 10000 */
  CONNECTION_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Serve GraphiQL at /graphql to browsers. @default true, false when NODE_ENV=production */
  GRAPHIQL: bool.optional(),
  /** "Did you mean …?" hints in validation errors. @default true, false when NODE_ENV=production */
  FIELD_SUGGESTIONS: bool.optional(),
  /** Largest HTTP request body (413 before it is read) and WebSocket message (close 1009). @default 1048576 (1 MiB) */
  MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Largest GraphQL document (the `query` text), over HTTP and WebSocket. @default 102400 (100 KB) */
  MAX_DOCUMENT_BYTES: z.coerce.number().int().min(256).max(10 * 1024 * 1024).default(100 * 1024),
  /** Most lexical tokens in one document. @default 2000 */
  MAX_TOKENS: z.coerce.number().int().min(50).max(1_000_000).default(2000),
  /** Deepest field nesting (introspection excepted). @default 12 */
  MAX_DEPTH: z.coerce.number().int().min(2).max(100).default(12),
  /** Most aliases in one operation. @default 20 */
  MAX_ALIASES: z.coerce.number().int().min(0).max(10_000).default(20),
  /** Most directives in one operation. @default 20 */
  MAX_DIRECTIVES: z.coerce.number().int().min(0).max(10_000).default(20),
  /** Highest graphql-armor cost (objects 2, scalars 1, ×1.5 per level). @default 20000 */
  MAX_COST: z.coerce.number().int().min(100).max(10_000_000).default(20_000),
  /** Most event rows one request may read over all its list fields (`first` summed). @default 2000 */
  MAX_ROWS_PER_REQUEST: z.coerce.number().int().min(1).max(1_000_000).default(2000),
  /** Longest token lifetime accepted; tokens without `exp` are refused. Units ms s m h d. @default '24h' */
  JWT_MAX_AGE: parsedWith(parseDuration, '24h'),
  /** Longest `sub` claim accepted. @default 256 */
  JWT_MAX_SUBJECT_LENGTH: z.coerce.number().int().min(8).max(4096).default(256),
  /** Live subscriptions one WebSocket may hold at once. @default 100 */
  MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Live connections (WebSocket + SSE) this instance accepts. @default 10000 */
  MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** Live connections one user may hold on this instance. @default 20 */
  MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(20),
  /** Bytes queued for one connection before it is closed as too slow. @default 1048576 (1 MiB) */
  SESSION_QUEUE_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(1024 * 1024),
  /** Messages queued for one connection before it is closed as too slow. @default 1000 */
  SESSION_QUEUE_MAX_MESSAGES: z.coerce.number().int().min(10).max(1_000_000).default(1000),
  /** A peer that answers no ping (WebSocket) or takes no heartbeat (SSE) this long is dropped. @default 60000 */
  HEARTBEAT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
  /** Answer introspection without a token (GraphiQL's schema explorer). @default true outside production */
  PUBLIC_INTROSPECTION: bool.optional(),
  /** Most event ids one notification mutation (markNotificationsRead, …) may name; more is BAD_USER_INPUT. @default 100 */
  NOTIFICATIONS_MAX_IDS: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Events replayed per store read when a subscription resumes. @default 500 */
  REPLAY_BATCH_SIZE: z.coerce.number().int().min(1).max(10000).default(500),
  /** Live events buffered per subscription before it is closed as too slow. @default 10000 */
  SUBSCRIPTION_BUFFER: z.coerce.number().int().min(10).max(1_000_000).default(10000),
  /** Webhook retry delays, one per attempt (`0,5s,5m,...`; units ms s m h d). @default '0,5s,5m,30m,2h,5h,10h,10h' */
  WEBHOOK_RETRY_SCHEDULE: parsedWith(parseRetrySchedule, DEFAULT_RETRY_SCHEDULE),
  /** Accept plain `http:` webhook URLs (development only). @default false */
  WEBHOOK_ALLOW_HTTP: bool.default(false),
  /** Accept webhook URLs on loopback/private/link-local addresses (development and tests only). @default false */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  /** Webhook requests in flight at once, over all endpoints. @default 50 */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(50),
  /** Webhook requests in flight at once to one endpoint. @default 5 */
  WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
  /** An endpoint whose deliveries all fail for this long is disabled and its owner notified. @default '5d' */
  WEBHOOK_DISABLE_AFTER: parsedWith(parseDuration, '5d'),
  /** Longest wait a receiver's `Retry-After` may impose before the next attempt. @default '1h' */
  WEBHOOK_RETRY_AFTER_CAP: parsedWith(parseDuration, '1h'),
});

export interface JwtConfig {
  /** HS256 secret, if any. */
  readonly secret?: string;
  /** RS256/ES256 public key, if any. */
  readonly publicKey?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** Where the secret came from, for the start-up log (never the secret itself). */
  readonly secretSource: 'env' | 'generated' | 'dev-file' | 'none';
  /** Longest accepted token lifetime in ms; tokens without `exp` are refused. Unset: no lifetime policy (loadConfig sets JWT_MAX_AGE). */
  readonly maxAgeMs?: number;
  /** Longest accepted `sub`. Unset: no cap (loadConfig sets JWT_MAX_SUBJECT_LENGTH). */
  readonly maxSubjectLength?: number;
}

/** Webhook delivery settings (see docs/webhooks.md); the webhooks module owns their shape. */
export type WebhookConfig = WebhookSettings;

/** Redis between instances; absent when REDIS_URL is not set (one instance, in-process bus). */
export interface RedisConfig {
  /** Never logged: it may carry a password. */
  readonly url: string;
  /** Unset: the bus's default (`herald:events`). */
  readonly channel?: string;
}

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  /** This process's name among the instances (unique per process). */
  readonly instanceId: string;
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  readonly jwt: JwtConfig;
  readonly dataDir: string;
  readonly mongodbUrl?: string;
  readonly redis?: RedisConfig;
  readonly retentionDays: number;
  readonly sseHeartbeatMs: number;
  readonly wsKeepAliveMs: number;
  /** On SIGTERM/SIGINT: how long in-flight requests and webhook attempts may take before the rest is cut (SHUTDOWN_TIMEOUT_MS). */
  readonly shutdownTimeoutMs: number;
  /** Bearer token for `/metrics` (METRICS_TOKEN); without it `/metrics` is open, except in production, where it is off. */
  readonly metricsToken?: string;
  /** Events per second one publishing token may publish, and its burst (PUBLISH_RATE_PER_TOKEN, 0 = off; PUBLISH_BURST_PER_TOKEN). */
  readonly publishRate: { readonly perSecond: number; readonly burst: number };
  readonly graphiql: boolean;
  readonly publicIntrospection: boolean;
  readonly replayBatchSize: number;
  readonly subscriptionBuffer: number;
  /** Most event ids one notification mutation may name (NOTIFICATIONS_MAX_IDS). */
  readonly notificationsMaxIds: number;
  readonly webhooks: WebhookConfig;
  readonly limits: Limits;
  /** Proxies whose `X-Forwarded-For` is believed (TRUSTED_PROXIES: IPs and CIDRs); empty: the TCP peer is the client. */
  readonly trustedProxies: readonly string[];
}

/** Every limit on client input, each refused with a typed error (README, "Configuration" and "Errors"). */
export interface Limits {
  readonly fieldSuggestions: boolean;
  readonly maxRequestBytes: number;
  readonly maxDocumentBytes: number;
  readonly maxTokens: number;
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxCost: number;
  readonly maxRowsPerRequest: number;
  readonly maxSubscriptionsPerConnection: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerUser: number;
  readonly queueMaxBytes: number;
  readonly queueMaxMessages: number;
  readonly heartbeatTimeoutMs: number;
  /** New live connections per client IP: per second (0 = off) and burst (CONNECTION_RATE_PER_IP, CONNECTION_BURST_PER_IP). */
  readonly connectionRate: { readonly perSecond: number; readonly burst: number };
  /** graphql-ws `subscribe` messages per connection: per second (0 = off) and burst (SUBSCRIBE_RATE_PER_CONNECTION, _BURST_). */
  readonly subscribeRate: { readonly perSecond: number; readonly burst: number };
  /** CONNECTION_INIT_TIMEOUT_MS */
  readonly connectionInitTimeoutMs: number;
}

type Env = z.output<typeof EnvSchema>;

/** The limits of a parsed environment. */
function limitsOf(e: Env, production: boolean): Limits {
  return {
    fieldSuggestions: e.FIELD_SUGGESTIONS ?? !production,
    maxRequestBytes: e.MAX_REQUEST_BYTES,
    maxDocumentBytes: e.MAX_DOCUMENT_BYTES,
    maxTokens: e.MAX_TOKENS,
    maxDepth: e.MAX_DEPTH,
    maxAliases: e.MAX_ALIASES,
    maxDirectives: e.MAX_DIRECTIVES,
    maxCost: e.MAX_COST,
    maxRowsPerRequest: e.MAX_ROWS_PER_REQUEST,
    maxSubscriptionsPerConnection: e.MAX_SUBSCRIPTIONS_PER_CONNECTION,
    maxConnections: e.MAX_CONNECTIONS,
    maxConnectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
    queueMaxBytes: e.SESSION_QUEUE_MAX_BYTES,
    queueMaxMessages: e.SESSION_QUEUE_MAX_MESSAGES,
    heartbeatTimeoutMs: e.HEARTBEAT_TIMEOUT_MS,
    connectionRate: { perSecond: e.CONNECTION_RATE_PER_IP, burst: e.CONNECTION_BURST_PER_IP },
    subscribeRate: { perSecond: e.SUBSCRIBE_RATE_PER_CONNECTION, burst: e.SUBSCRIBE_BURST_PER_CONNECTION },
    connectionInitTimeoutMs: e.CONNECTION_INIT_TIMEOUT_MS,
  };
}

/**
 * Every option's default, as the schema applies it to an empty environment: what code that is not given a
 * config (tests building a hub, embedders) falls back on, so no default is written a second time elsewhere.
 */
export const DEFAULTS: Env = EnvSchema.parse({});

/** The limits with every default (development). */
export const DEFAULT_LIMITS: Limits = limitsOf(DEFAULTS, false);

/** The environment variables the schema reads (the README's configuration table lists each; a unit test checks). */
export const ENV_OPTIONS = EnvSchema.shape;

/** File under DATA_DIR holding the generated development secret, so `npm run token` can sign with it. */
export const DEV_SECRET_FILE = '.dev-jwt-secret';

/**
 * Reads and validates configuration. Throws ConfigError naming every invalid variable.
 * In production, refuses to start without JWT_SECRET or JWT_PUBLIC_KEY; elsewhere generates a
 * development secret, persisted under DATA_DIR so tokens minted by `npm run token` verify.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.REDIS_URL && !e.MONGODB_URL) {
    throw new ConfigError(
      'REDIS_URL is set but MONGODB_URL is not: instances that share Redis must share one event log, and the embedded ' +
        'SQLite log is local to each instance. Set MONGODB_URL to the MongoDB every instance uses, or unset REDIS_URL to run one instance on SQLite',
    );
  }
  const dataDir = resolve(e.DATA_DIR);
  const production = e.NODE_ENV === 'production';

  const policy = { maxAgeMs: e.JWT_MAX_AGE, maxSubjectLength: e.JWT_MAX_SUBJECT_LENGTH };
  let jwt: JwtConfig;
  if (e.JWT_SECRET || e.JWT_PUBLIC_KEY) {
    if (production && e.JWT_SECRET && e.JWT_SECRET.length < 32) {
      throw new ConfigError('JWT_SECRET must be at least 32 characters in production');
    }
    jwt = {
      secret: e.JWT_SECRET,
      publicKey: e.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      secretSource: 'env',
      ...policy,
    };
  } else if (production) {
    throw new ConfigError(
      'JWT_SECRET (or JWT_PUBLIC_KEY) is required when NODE_ENV=production: refusing to start without a way to verify tokens',
    );
  } else {
    const { secret, created } = devSecret(dataDir);
    jwt = {
      secret,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      secretSource: created ? 'generated' : 'dev-file',
      ...policy,
    };
  }

  return {
    env: e.NODE_ENV,
    instanceId: e.INSTANCE_ID ?? defaultInstanceId(),
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL ?? (e.NODE_ENV === 'test' ? 'silent' : 'info'),
    jwt,
    dataDir,
    mongodbUrl: e.MONGODB_URL,
    redis: e.REDIS_URL ? { url: e.REDIS_URL, ...(e.REDIS_CHANNEL ? { channel: e.REDIS_CHANNEL } : {}) } : undefined,
    retentionDays: e.EVENT_LOG_RETENTION_DAYS,
    sseHeartbeatMs: e.SSE_HEARTBEAT_MS,
    wsKeepAliveMs: e.WS_KEEPALIVE_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    metricsToken: e.METRICS_TOKEN,
    publishRate: { perSecond: e.PUBLISH_RATE_PER_TOKEN, burst: e.PUBLISH_BURST_PER_TOKEN },
    graphiql: e.GRAPHIQL ?? !production,
    publicIntrospection: e.PUBLIC_INTROSPECTION ?? !production,
    replayBatchSize: e.REPLAY_BATCH_SIZE,
    subscriptionBuffer: e.SUBSCRIPTION_BUFFER,
    notificationsMaxIds: e.NOTIFICATIONS_MAX_IDS,
    webhooks: {
      retrySchedule: e.WEBHOOK_RETRY_SCHEDULE,
      allowHttp: e.WEBHOOK_ALLOW_HTTP,
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      endpointConcurrency: e.WEBHOOK_ENDPOINT_CONCURRENCY,
      disableAfterMs: e.WEBHOOK_DISABLE_AFTER,
      retryAfterCapMs: e.WEBHOOK_RETRY_AFTER_CAP,
    },
    limits: limitsOf(e, production),
    trustedProxies: e.TRUSTED_PROXIES,
  };
}

/** `<hostname>-<pid>-<6 hex>`: unique per process, readable in logs, restarts get a new one. */
function defaultInstanceId(): string {
  const host = hostname().replace(/[^\w.-]/g, '_').slice(0, 64) || 'herald';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

function devSecret(dataDir: string): { secret: string; created: boolean } {
  const file = resolve(dataDir, DEV_SECRET_FILE);
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret) return { secret, created: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return { secret, created: true };
}
