/**
 * The few globals the SDK uses, described by its own small interfaces (as graphql-ws does for its socket) so
 * the core compiles without DOM or Node types and runs on both: Node >= 20 and browsers have all of these.
 * Browser-only pieces (online / visibility events) are looked up at run time and skipped where absent.
 */

export type TimerHandle = unknown;

/** The part of `Response` the SDK reads. */
export interface ResponseLike {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  readonly body: { getReader(): ByteReader } | null;
  text(): Promise<string>;
}

export interface ByteReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}

export interface RequestInitLike {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: unknown;
}

/** `fetch` as the SDK calls it (the global one by default; pass your own to go through a proxy or an agent). */
export type FetchLike = (url: string, init: RequestInitLike) => Promise<ResponseLike>;

interface AbortControllerLike {
  readonly signal: unknown;
  abort(reason?: unknown): void;
}

interface Globals {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
  fetch?: FetchLike;
  AbortController: new () => AbortControllerLike;
  TextDecoder: new (label?: string) => { decode(input?: Uint8Array, options?: { stream?: boolean }): string };
  crypto?: { randomUUID?(): string };
  WebSocket?: unknown;
  addEventListener?(type: string, listener: () => void): void;
  removeEventListener?(type: string, listener: () => void): void;
  document?: {
    readonly visibilityState?: string;
    addEventListener?(type: string, listener: () => void): void;
    removeEventListener?(type: string, listener: () => void): void;
  };
}

const g = globalThis as unknown as Globals;

export const timers = {
  set: (callback: () => void, ms: number): TimerHandle => g.setTimeout(callback, ms),
  clear: (handle: TimerHandle | undefined): void => {
    if (handle !== undefined) g.clearTimeout(handle);
  },
  every: (callback: () => void, ms: number): TimerHandle => g.setInterval(callback, ms),
  stop: (handle: TimerHandle | undefined): void => {
    if (handle !== undefined) g.clearInterval(handle);
  },
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => g.setTimeout(resolve, ms));

export function globalFetch(): FetchLike {
  if (!g.fetch) throw new Error('No global fetch: pass `fetch` in the options (Node >= 18 and browsers have one)');
  return g.fetch.bind(globalThis) as FetchLike;
}

export const newAbortController = (): AbortControllerLike => new g.AbortController();

export const newTextDecoder = () => new g.TextDecoder('utf-8');

/** A random UUID (crypto.randomUUID where there is one: Node, secure browser contexts). */
export function randomId(): string {
  const uuid = g.crypto?.randomUUID?.();
  if (uuid) return uuid;
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
    const r = (Math.random() * 16) | 0;
    return (c === 'x' ? r : (r & 3) | 8).toString(16);
  });
}

export const globalWebSocket = (): unknown => g.WebSocket;

/**
 * Calls `wake` when a browser page comes back online or becomes visible (a good moment to reconnect at once
 * instead of waiting out a backoff). A no-op outside browsers. Returns a function that removes the listeners.
 */
export function onWake(wake: () => void): () => void {
  const win = typeof g.addEventListener === 'function' ? g : undefined;
  const doc = g.document && typeof g.document.addEventListener === 'function' ? g.document : undefined;
  const visible = () => {
    if (doc?.visibilityState === 'visible') wake();
  };
  win?.addEventListener?.('online', wake);
  doc?.addEventListener?.('visibilitychange', visible);
  return () => {
    win?.removeEventListener?.('online', wake);
    doc?.removeEventListener?.('visibilitychange', visible);
  };
}
