/**
 * The soak run's subscribers, as plain clients resume (no deduplication on the client, so every duplicate Herald
 * sends is seen and counted):
 * - WebSocket: graphql-ws's client; each connection subscribes with `after` = the cursor of the last event it
 *   received (the run's start cursor at first); when the socket dies the subscriber connects again and resumes.
 * - SSE: the `eventsource` package on a GET subscription; it reconnects by itself and sends `Last-Event-ID` from
 *   the `id:` of the last event, which is what is measured. Only the first request (no event seen yet) carries the
 *   run's start cursor, set by this module; if the package gives up (a non-200 answer) the stream is opened again
 *   from the last id it saw, and counted as a reopen.
 * Every receipt is recorded in arrival order with the event's id and position.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { EventSource } from 'eventsource';
import { seqOf, SOAK_TYPES_ENUM, type SoakViewer } from './soak-model.js';

export interface Receipt {
  readonly id: string;
  readonly seq: number;
}

export interface SubscriberRecord {
  readonly name: string;
  readonly transport: 'ws' | 'sse';
  readonly viewer: SoakViewer;
  readonly receipts: Receipt[];
  /** Connections that were accepted (graphql-ws `connected`, SSE `open`). */
  connects: number;
  /** Why connections ended or failed, counted. */
  readonly ends: Map<string, number>;
  /** Errors inside results (a GraphQL error on an open subscription): each is a FAIL. */
  readonly resultErrors: string[];
  /** SSE only: the package gave up and the stream was opened again. */
  reopens: number;
}

export interface Subscriber {
  readonly record: SubscriberRecord;
  close(): Promise<void>;
}

const WS_QUERY = `subscription($after: String) { events(types: [${SOAK_TYPES_ENUM.join(', ')}], after: $after) { id cursor } }`;
const SSE_QUERY = `subscription { events(types: [${SOAK_TYPES_ENUM.join(', ')}]) { id cursor } }`;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

function newRecord(name: string, transport: 'ws' | 'sse', viewer: SoakViewer): SubscriberRecord {
  return { name, transport, viewer, receipts: [], connects: 0, ends: new Map(), resultErrors: [], reopens: 0 };
}

function describeEnd(reason: unknown): string {
  if (reason && typeof reason === 'object' && 'code' in reason && typeof (reason as { code: unknown }).code === 'number') return `close ${(reason as { code: number }).code}`;
  if (Array.isArray(reason)) return `graphql error: ${String((reason[0] as { message?: string })?.message).slice(0, 100)}`;
  if (reason instanceof Error) return (reason as NodeJS.ErrnoException).code ?? reason.message.slice(0, 100);
  return 'error event';
}

export function startWsSubscriber(options: { name: string; wsUrl: string; token: string; viewer: SoakViewer; after: string }): Subscriber {
  const record = newRecord(options.name, 'ws', options.viewer);
  let last = options.after;
  let stopped = false;
  let client: Client | undefined;
  let wake: (() => void) | undefined;

  const loop = async () => {
    while (!stopped) {
      const ended = new Promise<string>((resolve) => {
        wake = () => resolve('stopped');
        client = createClient({
          url: options.wsUrl,
          webSocketImpl: WebSocket,
          lazy: true,
          retryAttempts: 0,
          connectionParams: { authorization: `Bearer ${options.token}` },
          on: { connected: () => void record.connects++ },
        });
        client.subscribe<{ events: { id: string; cursor: string } }>(
          { query: WS_QUERY, variables: { after: last } },
          {
            next(result) {
              if (result.errors?.length) return void record.resultErrors.push(String(result.errors[0]!.message));
              const event = result.data!.events;
              record.receipts.push({ id: event.id, seq: seqOf(event.cursor) });
              last = event.cursor;
            },
            error: (error) => resolve(describeEnd(error)),
            complete: () => resolve('complete'),
          },
        );
      });
      const reason = await ended;
      await client?.dispose();
      if (stopped) break;
      count(record.ends, reason);
      await sleep(150 + Math.random() * 250);
    }
  };
  const running = loop();
  return {
    record,
    async close() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}

export function startSseSubscriber(options: { name: string; graphqlUrl: string; token: string; viewer: SoakViewer; after: string }): Subscriber {
  const record = newRecord(options.name, 'sse', options.viewer);
  const url = new URL(options.graphqlUrl);
  url.searchParams.set('query', SSE_QUERY);
  url.searchParams.set('access_token', options.token);
  let lastSeen: string | undefined;
  let source: EventSource | undefined;
  let stopped = false;
  let reopenTimer: NodeJS.Timeout | undefined;

  const open = () => {
    const fresh = new EventSource(url, {
      fetch: (input, init) => {
        const headers = { ...(init?.headers as Record<string, string>) };
        // The package sends Last-Event-ID once it has seen an id; before that, the run's start (or, after a
        // reopen, the last id the previous EventSource saw).
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'last-event-id')) headers['Last-Event-ID'] = lastSeen ?? options.after;
        return fetch(input, { ...init, headers });
      },
    });
    source = fresh;
    fresh.addEventListener('open', () => void record.connects++);
    fresh.addEventListener('next', (event) => {
      const result = JSON.parse(event.data) as { data?: { events: { id: string; cursor: string } }; errors?: Array<{ message: string }> };
      if (result.errors?.length) return void record.resultErrors.push(result.errors[0]!.message);
      record.receipts.push({ id: result.data!.events.id, seq: seqOf(result.data!.events.cursor) });
      lastSeen = event.lastEventId || lastSeen;
    });
    fresh.addEventListener('error', (event) => {
      const e = event as unknown as { code?: number; message?: string; data?: string };
      // A server-sent `event: error` (the server ended the stream) carries data; a connection error does not.
      count(record.ends, e.data ? `server error event: ${e.data.slice(0, 80)}` : e.code ? `http ${e.code}` : (e.message ?? 'connection error').slice(0, 60));
      if (fresh.readyState === fresh.CLOSED && !stopped) {
        record.reopens++;
        reopenTimer = setTimeout(() => !stopped && open(), 1000);
      }
    });
  };
  open();
  return {
    record,
    async close() {
      stopped = true;
      clearTimeout(reopenTimer);
      source?.close();
    },
  };
}
