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

export interface SsePluginOptions {
  readonly sessions: SessionRegistry;
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
const HIGH_WATER_BYTES = 64 * 1024;
const COMPLETE = 1000;
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

/** One SSE stream's state, for the shared heartbeat sweep. */
interface Stream {
  session: Session;
  lastWrite: number;
  /** When the stream last had room (desiredSize > 0); a peer that takes nothing for too long is gone. */
  lastRoom: number;
  controller: ReadableStreamDefaultController<Uint8Array>;
}

export function createSsePlugin(options: SsePluginOptions): SsePlugin {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 60_000;
  const states = new WeakMap<Request, StreamState>();
  const streams = new Set<Stream>();
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
        const room = (stream.controller.desiredSize ?? 0) > 0;
        if (room) stream.lastRoom = now;
        else if (now - stream.lastRoom > heartbeatTimeoutMs) {
          stream.session.gone();
          continue;
        }
        if (room && now - stream.lastWrite >= heartbeatMs - 50) stream.session.transport.write(': heartbeat\n\n');
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

  function streamed(request: Request, results: AsyncIterable<ExecutionResult>, fetchAPI: FetchAPI): Response {
    const state = streamState(request);
    const iterator = results[Symbol.asyncIterator]();
    const viewer = options.viewerOf(request);
    let stream: Stream | undefined;
    let drained: (() => void) | undefined;
    let open = true;
    let controllerRef!: ReadableStreamDefaultController<Uint8Array>;

    const transport: SessionTransport = {
      kind: 'sse',
      write(frame) {
        if (!open) return;
        controllerRef.enqueue(encoder.encode(frame));
        if (stream) stream.lastWrite = Date.now();
      },
      bufferedBytes: () => (open ? HIGH_WATER_BYTES - (controllerRef.desiredSize ?? 0) : 0),
      onceDrained(listener) {
        drained = listener;
      },
      end(code, why) {
        if (!open) return;
        if (code === COMPLETE) controllerRef.enqueue(encoder.encode('event: complete\ndata:\n\n'));
        else if (code !== 1006) controllerRef.enqueue(encoder.encode(`event: ${SSE_CLOSE_EVENT}\ndata: ${JSON.stringify({ code, reason: why })}\n\n`));
        open = false;
        if (stream) streams.delete(stream);
        void iterator.return?.();
        try {
          controllerRef.close();
        } catch {
          // already cancelled by the peer
        }
      },
    };

    let session: Session;
    try {
      if (!viewer) throw new Error('SSE stream without an authenticated viewer');
      session = options.sessions.open(viewer, transport, CODES);
    } catch (error) {
      void iterator.return?.();
      if (isAppError(error)) return refused(error.status, error.code, error.message, fetchAPI);
      throw error;
    }
    session.operations.set('sse', { stop: () => void iterator.return?.() });

    const body = new fetchAPI.ReadableStream<Uint8Array>(
      {
        start(controller) {
          controllerRef = controller;
          stream = { session, lastWrite: Date.now(), lastRoom: Date.now(), controller };
          streams.add(stream);
          startSweep();
          // Flush headers at once: some clients stall until the first bytes arrive.
          controller.enqueue(encoder.encode(':\n\n'));
          void pump();
        },
        pull() {
          const listener = drained;
          drained = undefined;
          listener?.();
        },
        cancel() {
          open = false;
          if (stream) streams.delete(stream);
          session.gone();
        },
      },
      { highWaterMark: HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
    );

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
    onResultProcess({ request, acceptableMediaTypes, setResultProcessor }) {
      const accept = request.headers.get('accept') ?? '';
      if (!accept.includes('text/event-stream')) return;
      acceptableMediaTypes.push('text/event-stream');
      setResultProcessor(
        ((result: ResultProcessorInput, fetchAPI: FetchAPI) =>
          isAsyncIterable(result) ? streamed(request, result, fetchAPI) : single(Array.isArray(result) ? result[0]! : result, fetchAPI)) as never,
        'text/event-stream',
      );
    },
  };
  return { plugin, streamState };
}
