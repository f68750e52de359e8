/**
 * SSE at /graphql (Yoga's `Accept: text/event-stream` mode, compatible with graphql-sse's
 * distinct-connections client). Replaces Yoga's processor to add what resuming clients need:
 * an `id:` line with the event cursor (EventSource resends it as `Last-Event-ID`), a heartbeat
 * comment on idle streams, and `X-Accel-Buffering: no` so nginx-style proxies do not buffer.
 */
import type { Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import type { StreamState } from '../graphql/context.js';

export interface SsePluginOptions {
  /** Idle interval between heartbeat comments. @default 15000 */
  readonly heartbeatMs?: number;
}

export interface SsePlugin {
  readonly plugin: Plugin;
  /** The per-request state resolvers write the current cursor into. */
  streamState(request: Request): StreamState;
}

type ResultProcessorInput = ExecutionResult | ExecutionResult[] | AsyncIterable<ExecutionResult>;

const encoder = new TextEncoder();

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/** Status from `extensions.http.status` of the errors of a single (non-streamed) result. */
function statusOf(result: ResultProcessorInput): number {
  if (isAsyncIterable(result) || Array.isArray(result)) return 200;
  let status = 200;
  for (const error of result.errors ?? []) {
    const http = (error.extensions as { http?: { status?: number } } | undefined)?.http;
    if (http?.status && http.status > status) status = http.status;
  }
  return status;
}

/** Same as Yoga's stringifier: drops the internal `http` extension from errors. */
function serialize(result: ExecutionResult): string {
  if (!result.errors?.length) return JSON.stringify(result);
  return JSON.stringify({
    ...result,
    errors: result.errors.map((e) => {
      const json = e.toJSON ? e.toJSON() : (e as object);
      const { http: _http, ...extensions } = ((json as { extensions?: Record<string, unknown> }).extensions ?? {});
      return { ...json, extensions: Object.keys(extensions).length ? extensions : undefined };
    }),
  });
}

export function createSsePlugin(options: SsePluginOptions = {}): SsePlugin {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const states = new WeakMap<Request, StreamState>();
  const streamState = (request: Request) => {
    let state = states.get(request);
    if (!state) states.set(request, (state = {}));
    return state;
  };

  const process = (request: Request) => (result: ResultProcessorInput, fetchAPI: { Response: typeof Response; ReadableStream: typeof ReadableStream }) => {
    const state = streamState(request);
    const iterator: AsyncIterator<ExecutionResult> = isAsyncIterable(result)
      ? result[Symbol.asyncIterator]()
      : (() => {
          let sent = false;
          return {
            next: async () => (sent ? { done: true as const, value: undefined } : ((sent = true), { done: false as const, value: result as ExecutionResult })),
          };
        })();
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let lastWrite = Date.now();
    const stream = new fetchAPI.ReadableStream<Uint8Array>({
      start(controller) {
        // Flush headers at once: some clients stall until the first bytes arrive.
        controller.enqueue(encoder.encode(':\n\n'));
        heartbeat = setInterval(() => {
          if (controller.desiredSize === null) return clearInterval(heartbeat);
          if (Date.now() - lastWrite >= heartbeatMs - 50) {
            controller.enqueue(encoder.encode(': heartbeat\n\n'));
            lastWrite = Date.now();
          }
        }, Math.max(250, Math.floor(heartbeatMs / 3)));
        heartbeat.unref?.();
      },
      async pull(controller) {
        try {
          const { done, value } = await iterator.next();
          if (value != null) {
            const id = state.cursor !== undefined ? `id: ${state.cursor}\n` : '';
            state.cursor = undefined;
            controller.enqueue(encoder.encode(`${id}event: next\ndata: ${serialize(value)}\n\n`));
            lastWrite = Date.now();
          }
          if (done) {
            controller.enqueue(encoder.encode('event: complete\ndata:\n\n'));
            clearInterval(heartbeat);
            controller.close();
          }
        } catch (error) {
          clearInterval(heartbeat);
          controller.error(error);
        }
      },
      async cancel() {
        clearInterval(heartbeat);
        await iterator.return?.();
      },
    });
    return new fetchAPI.Response(stream, {
      status: statusOf(result),
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      },
    });
  };

  const plugin: Plugin = {
    onResultProcess({ request, acceptableMediaTypes, setResultProcessor }) {
      const accept = request.headers.get('accept') ?? '';
      if (!accept.includes('text/event-stream')) return;
      acceptableMediaTypes.push('text/event-stream');
      setResultProcessor(process(request) as never, 'text/event-stream');
    },
  };
  return { plugin, streamState };
}
