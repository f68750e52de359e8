/**
 * Sends one signed webhook request over node:http/https and reports what happened, never throwing.
 *
 * - SSRF: the URL is checked with {@link assertSafeWebhookUrl} before sending (results reused for a minute, so a
 *   busy endpoint does not resolve DNS per request), and the agents' `lookup` re-checks every address at connect
 *   time, so a host re-resolving to an internal address is refused before a byte is sent to it.
 * - Timeouts: 5 s to connect, 15 s for the whole exchange. Redirects are never followed (3xx is a failure).
 * - The response body is read up to a cap; at most 4 KB of it is kept for the delivery log.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { UnsafeUrlError } from '../errors.js';
import { assertSafeWebhookUrl, createGuardedLookup, defaultLookup, type LookupFn, type UrlPolicy } from './ssrf-guard.js';
import { parseRetryAfter } from './retry-schedule.js';
import type { AttemptErrorKind } from './model.js';

export interface SendRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent byte for byte (the signature covers it). */
  readonly body: string;
  /** Aborts the exchange (shutdown); the result then says `aborted`. */
  readonly signal?: AbortSignal;
}

export interface SendResult {
  /** A 2xx answer. */
  readonly ok: boolean;
  readonly httpStatus: number | null;
  readonly latencyMs: number;
  readonly errorKind: AttemptErrorKind | null;
  /** What went wrong, without the URL (it may carry a token). */
  readonly error: string | null;
  /** Up to `responseBodyLimit` bytes of the answer. */
  readonly responseBody: string | null;
  /** `Retry-After` of a 429 or 503, in ms. */
  readonly retryAfterMs?: number;
  /** Stopped by `signal`: not an attempt. */
  readonly aborted?: boolean;
}

/** The port the dispatcher delivers through; tests may substitute it. */
export interface WebhookSender {
  send(request: SendRequest): Promise<SendResult>;
  /** Drops idle keep-alive sockets. */
  close(): void;
}

export interface HttpSenderOptions {
  /** Which URLs may be called (the same policy as at registration). */
  readonly policy: UrlPolicy;
  /** @default 5000 */
  readonly connectTimeoutMs?: number;
  /** For the whole exchange, connect included. @default 15000 */
  readonly timeoutMs?: number;
  /** Bytes of the response body kept. @default 4096 */
  readonly responseBodyLimit?: number;
  /** Bytes of a response read before the connection is dropped instead of drained. @default 65536 */
  readonly responseReadLimit?: number;
  /** Larger bodies are not sent: the attempt fails as `too_large`. @default 1048576 */
  readonly maxBodyBytes?: number;
  /** How long a passed URL check is reused. @default 60000 */
  readonly urlCheckTtlMs?: number;
  /** Resolver, injected in tests. @default the system resolver */
  readonly lookup?: LookupFn;
}

class SendTimeout extends Error {
  constructor(readonly phase: 'connect' | 'total', ms: number) {
    super(phase === 'connect' ? `no connection within ${ms} ms` : `no complete answer within ${ms} ms`);
  }
}

class Aborted extends Error {}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EHOSTDOWN', 'ENETDOWN']);

/** Maps a request failure to the attempt log's error kind and a message safe to show the endpoint's owner. */
export function classifySendError(error: unknown): { kind: AttemptErrorKind; message: string } {
  if (error instanceof SendTimeout) return { kind: 'timeout', message: error.message };
  if (error instanceof UnsafeUrlError) return { kind: 'unsafe_address', message: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && DNS_CODES.has(code)) return { kind: 'dns', message };
  if (typeof code === 'string' && CONNECT_CODES.has(code)) return { kind: 'connect', message };
  return { kind: 'network', message };
}

/** Caches passed URL checks briefly; failed checks are not cached (they are retried anyway). */
function createUrlChecker(policy: UrlPolicy, lookup: LookupFn, ttlMs: number) {
  const passed = new Map<string, { url: URL; at: number }>();
  return async (url: string): Promise<URL> => {
    const hit = passed.get(url);
    if (hit && Date.now() - hit.at < ttlMs) return hit.url;
    const parsed = await assertSafeWebhookUrl(url, policy, lookup);
    if (passed.size >= 10_000) passed.clear();
    passed.set(url, { url: parsed, at: Date.now() });
    return parsed;
  };
}

export function createHttpSender(options: HttpSenderOptions): WebhookSender {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const bodyLimit = options.responseBodyLimit ?? 4_096;
  const readLimit = Math.max(bodyLimit, options.responseReadLimit ?? 65_536);
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const lookup = options.lookup ?? defaultLookup;
  const check = createUrlChecker(options.policy, lookup, options.urlCheckTtlMs ?? 60_000);
  const guardedLookup = createGuardedLookup(options.policy, lookup);
  const agentOptions = { keepAlive: true, lookup: guardedLookup, scheduling: 'lifo' as const };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

  /** One HTTP exchange; rejects with the transport error, resolves with the answer. */
  const exchange = (url: URL, request: SendRequest, body: Buffer, deadline: number) =>
    new Promise<{ status: number; body: string; retryAfter: string | undefined }>((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request(url, {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        headers: { ...request.headers, 'content-length': String(body.length) },
      });
      let connectTimer: NodeJS.Timeout | undefined;
      const totalTimer = setTimeout(() => req.destroy(new SendTimeout('total', timeoutMs)), Math.max(0, deadline - Date.now()));
      const onAbort = () => req.destroy(new Aborted('aborted'));
      request.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(totalTimer);
        if (connectTimer) clearTimeout(connectTimer);
        request.signal?.removeEventListener('abort', onAbort);
      };
      req.on('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        connectTimer = setTimeout(() => req.destroy(new SendTimeout('connect', connectTimeoutMs)), connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
      });
      req.on('error', (error) => {
        cleanup();
        reject(Object.assign(error, { reusedSocket: req.reusedSocket }));
      });
      req.on('response', (res) => {
        const kept: Buffer[] = [];
        let keptBytes = 0;
        let readBytes = 0;
        const finish = () => {
          cleanup();
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(kept).toString('utf8'), retryAfter: res.headers['retry-after'] });
        };
        res.on('data', (chunk: Buffer) => {
          readBytes += chunk.length;
          if (keptBytes < bodyLimit) {
            const part = chunk.subarray(0, bodyLimit - keptBytes);
            kept.push(part);
            keptBytes += part.length;
          }
          // Past the read cap the answer is abandoned (with its socket) rather than drained.
          if (readBytes > readLimit) {
            res.destroy();
            finish();
          }
        });
        res.on('end', finish);
        res.on('error', (error) => {
          cleanup();
          reject(error);
        });
      });
      req.end(body);
    });

  return {
    async send(request) {
      const started = performance.now();
      const latency = () => Math.round(performance.now() - started);
      const failed = (kind: AttemptErrorKind, message: string): SendResult => ({
        ok: false,
        httpStatus: null,
        latencyMs: latency(),
        errorKind: kind,
        error: message,
        responseBody: null,
      });
      const body = Buffer.from(request.body, 'utf8');
      if (body.length > maxBodyBytes) return failed('too_large', `request body of ${body.length} bytes exceeds ${maxBodyBytes}`);
      let url: URL;
      try {
        url = await check(request.url);
      } catch (error) {
        return failed('unsafe_address', error instanceof Error ? error.message : String(error));
      }
      const deadline = Date.now() + timeoutMs;
      for (let attempt = 0; ; attempt++) {
        try {
          const answer = await exchange(url, request, body, deadline);
          const ok = answer.status >= 200 && answer.status < 300;
          const retryAfterMs =
            answer.status === 429 || answer.status === 503 ? parseRetryAfter(answer.retryAfter ?? null, new Date()) : undefined;
          return {
            ok,
            httpStatus: answer.status,
            latencyMs: latency(),
            errorKind: ok ? null : 'http_status',
            error: ok ? null : `HTTP ${answer.status}`,
            responseBody: answer.body,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          };
        } catch (error) {
          if (error instanceof Aborted) return { ...failed('network', 'aborted'), aborted: true };
          // A keep-alive socket the receiver closed while idle: retry once on a fresh connection.
          const code = (error as { code?: unknown }).code;
          if (attempt === 0 && (error as { reusedSocket?: boolean }).reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) continue;
          const { kind, message } = classifySendError(error);
          return failed(kind, message);
        }
      }
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
