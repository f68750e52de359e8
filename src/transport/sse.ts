/**
 * SSE at /graphql (Yoga's `Accept: text/event-stream` mode, compatible with graphql-sse's
 * distinct-connections client). Replaces Yoga's processor to add what resuming clients need:
 * an `id:` line with the event cursor (EventSource resends it as `Last-Event-ID`), a heartbeat
 * comment on idle streams, and `X-Accel-Buffering: no` so nginx-style proxies do not buffer.
 * Every stream is a `Session` (connection limits, token expiry, a bounded writer); when the server
 * ends one it sends a final `event: error` naming the reason (clients/protocol `SseCloseData`).
 */
import type { Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { HeraldCloseCode, SSE_CLOSE_EVENT } from '../../clients/protocol/index.js';
import type { StreamState } from '../graphql/context.js';
import type { VerifiedViewer } from '../auth/tokens.js';
import type { SessionRegistry } from '../live/session-registry.js';
import type { Session, SessionTransport } from '../live/session.js';
import { isAppError } from '../errors.js';
import { serializeResult } from '../graphql/serialize.js';
import { splice, type LiveGroups } from '../graphql/live-groups.js';
import type { Frame } from '../live/writer.js';
import { collapseKey } from '../live/collapse.js';
import { encodeCursor } from '../events/model.js';

export interface SsePluginOptions {
  readonly sessions: SessionRegistry;
  /** Shared execution of live subscriptions. */
  readonly groups: LiveGroups;
  /** The authenticated viewer of a request (from the early authentication). */
  readonly viewerOf: (request: Request) => VerifiedViewer | undefined;
  /** Idle interval between heartbeat comments. @default 15000 */
  readonly heartbeatMs?: number;
  /** A stream whose peer takes nothing this long is dropped. @default 60000 */
  readonly heartbeatTimeoutMs?: number;
}

export interface SsePlugin {
  readonly plugin: Plugin;
  /** The per-request state resolvers write the current cursor into. */
  streamState(request: Request): StreamState;
}

type ResultProcessorInput = ExecutionResult | ExecutionResult[] | AsyncIterable<ExecutionResult>;
type FetchAPI = { Response: typeof Response; ReadableStream: typeof ReadableStream };

const encoder = new TextEncoder();
const COMPLETE = 1000;
const BLANK_LINE = Buffer.from('\n\n');
const CODES = { tokenExpired: CloseCode.Unauthorized, slowConsumer: HeraldCloseCode.SlowConsumer } as const;
const HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/** Status from `extensions.http.status` of the errors of a single (non-streamed) result. */
function statusOf(result: ExecutionResult): number {
  let status = 200;
  for (const error of result.errors ?? []) {
    const http = (error.extensions as { http?: { status?: number } } | undefined)?.http;
    if (http?.status && http.status > status) status = http.status;
  }
  return status;
}

/**
 * One SSE stream as a session transport. The response body is a pull stream: a frame reaches the
 * body only when Yoga's Node adapter asks for the next chunk, which it does once the socket has taken
 * the previous one (it waits for `drain`). So frames the peer has not taken yet are counted here
 * (plus the Node response's own buffer), and the session's writer sees real backpressure.
 */
class SseStream implements SessionTransport {
  readonly kind = 'sse' as const;
  session: Session | undefined;
  lastWrite = Date.now();
  /** When the adapter last took a chunk: a peer that takes nothing for too long is gone. */
  lastPull = Date.now();
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #waiter: ((chunk: Uint8Array | null) => void) | undefined;
  #drained: (() => void) | undefined;
  #ending = false;
  #ended = false;

  constructor(
    private readonly res: { writableLength?: number } | undefined,
    private readonly onEnd: (stream: SseStream) => void,
  ) {}

  write(frame: Frame): void {
    if (this.#ending) return;
    this.lastWrite = Date.now();
    this.#push(typeof frame === 'string' ? encoder.encode(frame) : frame);
  }

  bufferedBytes(): number {
    return this.#pendingBytes + (this.res?.writableLength ?? 0);
  }

  onceDrained(listener: () => void): void {
    this.#drained = listener;
  }

  /** Bytes waiting for the adapter. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  end(code: number, why: string): void {
    if (this.#ending) return;
    if (code === COMPLETE) this.#push(encoder.encode('event: complete\ndata:\n\n'));
    else if (code !== 1006) this.#push(encoder.encode(`event: ${SSE_CLOSE_EVENT}\ndata: ${JSON.stringify({ code, reason: why })}\n\n`));
    this.#ending = true;
    if (code === 1006) this.#pending = [];
    if (this.#waiter && this.#pending.length === 0) this.#finish();
    this.onEnd(this);
  }

  /** The body's pull: the next chunk, or null at the end. */
  pull(): Uint8Array | null | Promise<Uint8Array | null> {
    this.lastPull = Date.now();
    const chunk = this.#pending.shift();
    if (chunk) {
      this.#pendingBytes -= chunk.byteLength;
      if (this.#pending.length === 0) this.#fireDrained();
      return chunk;
    }
    if (this.#ending) return null;
    this.#fireDrained();
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  #push(chunk: Uint8Array) {
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      this.lastPull = Date.now();
      waiter(chunk);
      return;
    }
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.byteLength;
  }

  #finish() {
    if (this.#ended) return;
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(null);
  }

  #fireDrained() {
    const listener = this.#drained;
    this.#drained = undefined;
    listener?.();
  }
}

export function createSsePlugin(options: SsePluginOptions): SsePlugin {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 60_000;
  const states = new WeakMap<Request, StreamState>();
  const streams = new Set<SseStream>();
  const streamState = (request: Request) => {
    let state = states.get(request);
    if (!state) states.set(request, (state = {}));
    return state;
  };

  let sweep: ReturnType<typeof setInterval> | undefined;
  const startSweep = () => {
    sweep ??= setInterval(() => {
      const now = Date.now();
      for (const stream of streams) {
        if (stream.pendingBytes > 0 && now - stream.lastPull > heartbeatTimeoutMs) {
          stream.session?.gone();
          continue;
        }
        if (stream.pendingBytes === 0 && now - stream.lastWrite >= heartbeatMs - 50) stream.write(': heartbeat\n\n');
      }
      if (streams.size === 0) {
        clearInterval(sweep);
        sweep = undefined;
      }
    }, Math.max(250, Math.floor(Math.min(heartbeatMs, heartbeatTimeoutMs) / 3)));
    sweep.unref?.();
  };

  function single(result: ExecutionResult, fetchAPI: FetchAPI): Response {
    const text = `:\n\nevent: next\ndata: ${serializeResult(result)}\n\nevent: complete\ndata:\n\n`;
    const body = new fetchAPI.ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(text));
        controller.close();
      },
    });
    return new fetchAPI.Response(body, { status: statusOf(result), headers: HEADERS });
  }

  function refused(status: number, code: string, message: string, fetchAPI: FetchAPI): Response {
    return new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '5' },
    });
  }

  function streamed(request: Request, res: { writableLength?: number } | undefined, results: AsyncIterable<ExecutionResult>, fetchAPI: FetchAPI): Response {
    const state = streamState(request);
    const iterator = results[Symbol.asyncIterator]();
    const viewer = options.viewerOf(request);
    // Push mode stops through the feed itself, so graphql-js's mapped iterator (and the request's context) can go.
    let stopSource = () => void iterator.return?.();
    const transport = new SseStream(res, (stream) => {
      streams.delete(stream);
      stopSource();
    });

    let session: Session;
    try {
      if (!viewer) throw new Error('SSE stream without an authenticated viewer');
      session = options.sessions.open(viewer, transport, CODES);
    } catch (error) {
      void iterator.return?.();
      if (isAppError(error)) return refused(error.status, error.code, error.message, fetchAPI);
      throw error;
    }
    transport.session = session;
    streams.add(transport);
    startSweep();
    // Flush headers at once: some clients stall until the first bytes arrive.
    transport.write(':\n\n');
    const feed = state.feed;
    if (feed && state.args) {
      // Push: the group renders each event once; this stream adds its `id:` line.
      const group = options.groups.join(state.args, session.role);
      state.feed = state.args = undefined;
      stopSource = () => void feed.return?.();
      session.addOperation('sse', {
        stop: () => {
          stopSource();
          group.leave();
        },
      });
      feed.attach({
        deliver: (event) => session.send(splice(Buffer.from(`id: ${encodeCursor(event.seq)}\nevent: next\ndata: `), group.render(event), BLANK_LINE), collapseKey(event)),
        ready: () => session.writer.ready(),
        fail: (error) => session.close(CloseCode.InternalServerError, isAppError(error) ? error.message : 'Unexpected error'),
      });
    } else {
      session.addOperation('sse', { stop: () => void iterator.return?.() });
      void pump();
    }

    const body = new fetchAPI.ReadableStream<Uint8Array>({
      async pull(controller) {
        const chunk = await transport.pull();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel() {
        session.gone();
      },
    });

    async function pump() {
      try {
        for (;;) {
          const { done, value } = await iterator.next();
          if (done || session.closed) break;
          const id = state.cursor !== undefined ? `id: ${state.cursor}\n` : '';
          state.cursor = undefined;
          session.send(`${id}event: next\ndata: ${serializeResult(value)}\n\n`);
        }
        session.close(COMPLETE, 'complete');
      } catch (error) {
        const message = isAppError(error) ? error.message : 'Unexpected error';
        session.close(CloseCode.InternalServerError, message);
      }
    }

    return new fetchAPI.Response(body, { status: 200, headers: HEADERS });
  }

  const plugin: Plugin = {
    onResultProcess({ request, acceptableMediaTypes, setResultProcessor, serverContext }) {
      const res = (serverContext as { res?: { writableLength?: number } }).res;
      const accept = request.headers.get('accept') ?? '';
      if (!accept.includes('text/event-stream')) return;
      acceptableMediaTypes.push('text/event-stream');
      setResultProcessor(
        ((result: ResultProcessorInput, fetchAPI: FetchAPI) =>
          isAsyncIterable(result) ? streamed(request, res, result, fetchAPI) : single(Array.isArray(result) ? result[0]! : result, fetchAPI)) as never,
        'text/event-stream',
      );
    },
  };
  return { plugin, streamState };
}
