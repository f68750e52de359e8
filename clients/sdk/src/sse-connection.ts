/**
 * SSE as a connection: each operation is its own `POST /graphql` with `Accept: text/event-stream` (Herald's
 * distinct-connections mode), read with fetch and `createSseParser`. Not EventSource: it cannot send an
 * `Authorization` header (the token would travel in the URL), hides the HTTP status of a refusal (401 vs 429),
 * and reconnects on its own schedule with the token it started with.
 *
 * Any stream that ends abnormally ends the whole connection, with the close code Herald put in its final
 * `event: error` frame (4401 token expired, 4030 too slow...) or the one its HTTP refusal maps to, so the client
 * handles both transports with one close policy. A stream silent longer than `idleTimeoutMs` (Herald sends a
 * heartbeat comment at least every 15 s) counts as broken.
 */
import { CloseCode, HeraldCloseCode, SSE_CLOSE_EVENT, type SseCloseData } from '../../protocol/index.js';
import type { GraphQLErrorLike } from './errors.js';
import type { GraphQLRequest } from './http.js';
import { newAbortController, newTextDecoder, timers, type FetchLike, type ResponseLike, type TimerHandle } from './runtime.js';
import { createSseParser, type SseMessage } from './sse-parser.js';
import { LocalCloseCode, type CloseInfo, type Connection, type OperationSink, type ResultLike } from './connection.js';

export interface SseConnectionOptions {
  readonly url: string;
  /** Asked before each stream opens (a stream opened later in the connection's life gets a fresh token). */
  readonly token: () => Promise<string>;
  readonly fetch: FetchLike;
  /** From sending a request to its response headers. */
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

/** The close code an HTTP refusal of a stream stands for. */
function refusalCode(status: number, code: string | undefined): number {
  if (status === 401) return CloseCode.Unauthorized;
  if (status === 403) return CloseCode.Forbidden;
  if (code === 'TOO_MANY_CONNECTIONS' || status === 429) return HeraldCloseCode.TooManyConnections;
  if (status >= 500) return CloseCode.InternalServerError;
  return CloseCode.BadRequest;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export function openSseConnection(options: SseConnectionOptions): Connection {
  let ready = false;
  let ended = false;
  let resolveReady!: () => void;
  let resolveClosed!: (info: CloseInfo) => void;
  const readyPromise = new Promise<void>((resolve) => (resolveReady = resolve));
  const closedPromise = new Promise<CloseInfo>((resolve) => (resolveClosed = resolve));
  const streams = new Set<{ abort(): void }>();

  const end = (info: Omit<CloseInfo, 'beforeReady'>, notify: boolean) => {
    if (ended) return;
    ended = true;
    for (const stream of [...streams]) stream.abort();
    streams.clear();
    if (notify) resolveClosed({ ...info, beforeReady: !ready });
  };

  function subscribe(request: GraphQLRequest, sink: OperationSink): () => void {
    const controller = newAbortController();
    let active = true;
    let idle: TimerHandle | undefined;
    const stream = {
      abort() {
        active = false;
        timers.stop(idle);
        controller.abort();
      },
    };
    streams.add(stream);
    const stop = () => {
      streams.delete(stream);
      stream.abort();
    };

    void (async () => {
      let response: ResponseLike;
      const connectTimer = timers.set(() => controller.abort(), options.connectTimeoutMs);
      try {
        const token = await options.token();
        if (!active) return;
        response = await options.fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: request.query, variables: request.variables ?? {}, ...(request.operationName ? { operationName: request.operationName } : {}) }),
          signal: controller.signal,
        });
      } catch (error) {
        if (active) end({ code: LocalCloseCode.Abnormal, reason: `SSE request failed: ${(error as Error)?.message ?? String(error)}` }, true);
        return;
      } finally {
        timers.clear(connectTimer);
      }
      if (!active) return void response.body?.getReader().cancel().catch(() => {});
      const type = response.headers.get('content-type') ?? '';

      if (!type.includes('text/event-stream')) {
        // Refused before streaming (authentication, a connection limit): a JSON GraphQL error body.
        const body = parseJson(await response.text().catch(() => '')) as { errors?: GraphQLErrorLike[] } | undefined;
        const code = body?.errors?.[0]?.extensions?.['code'];
        const retryAfter = Number(response.headers.get('retry-after'));
        const info = {
          code: refusalCode(response.status, typeof code === 'string' ? code : undefined),
          reason: body?.errors?.[0]?.message ?? `HTTP ${response.status}`,
          ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
        };
        if (active) end(info, true);
        return;
      }

      // Any event stream (also a 403/410 one carrying an operation's error) shows SSE gets through.
      if (!ready) {
        ready = true;
        resolveReady();
      }
      const reader = response.body?.getReader();
      if (!reader) return void (active && end({ code: LocalCloseCode.Abnormal, reason: 'SSE response without a body' }, true));
      let lastByte = Date.now();
      idle = timers.every(() => {
        if (Date.now() - lastByte > options.idleTimeoutMs) {
          if (active) end({ code: LocalCloseCode.Terminated, reason: `SSE stream silent for ${options.idleTimeoutMs} ms` }, true);
        }
      }, Math.max(250, Math.floor(options.idleTimeoutMs / 3)));

      let finished: 'complete' | 'error' | undefined;
      const onMessage = (message: SseMessage) => {
        if (!active || finished) return;
        if (message.event === 'next') {
          const result = parseJson(message.data) as ResultLike | undefined;
          if (result) sink.next(result);
        } else if (message.event === 'complete') {
          finished = 'complete';
        } else if (message.event === SSE_CLOSE_EVENT) {
          finished = 'error';
          const data = parseJson(message.data) as Partial<SseCloseData> | undefined;
          end({ code: typeof data?.code === 'number' ? data.code : LocalCloseCode.Abnormal, reason: String(data?.reason ?? 'stream ended') }, true);
        }
      };
      const parser = createSseParser(onMessage);
      const decoder = newTextDecoder();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || !active) break;
          lastByte = Date.now();
          parser.push(decoder.decode(value, { stream: true }));
          if (finished) break;
        }
      } catch {
        // aborted, or the connection broke: handled below
      } finally {
        timers.stop(idle);
        void reader.cancel().catch(() => {});
      }
      if (!active) return;
      if (finished === 'complete') {
        streams.delete(stream);
        active = false;
        // A result with errors then `complete`: the operation failed (FORBIDDEN, CURSOR_EXPIRED...).
        sink.complete();
        return;
      }
      if (!finished) end({ code: LocalCloseCode.Abnormal, reason: 'SSE stream ended without a final event' }, true);
    })();
    return stop;
  }

  return {
    kind: 'sse',
    ready: readyPromise,
    get isReady() {
      return ready && !ended;
    },
    closed: closedPromise,
    subscribe,
    close: () => end({ code: 1000, reason: 'client closed' }, false),
  };
}
