/** Fixtures for the SDK tests: typed example payloads, Node's WebSocket, a recording handler. */
import WebSocket from 'ws';
import { examplePayload } from '../../src/events/examples.js';
import type { EventTypeName as DomainType } from '../../src/events/catalogue.js';
import type { EventTypeName, HeraldClientStatus, PayloadMap } from '../../clients/sdk/src/index.js';
import { waitFor } from './deferred.js';

export { WebSocket };

/** The catalogue's example payload for a GraphQL event type, typed as the SDK's payload. */
export const payloadOf = <T extends EventTypeName>(type: T, overrides?: Record<string, unknown>): PayloadMap[T] =>
  examplePayload(type.toLowerCase() as DomainType, overrides) as unknown as PayloadMap[T];

/** Collects what a handler receives, and every status the client reports. */
export function recorder<E extends { id: string; cursor: string }>() {
  const events: E[] = [];
  const statuses: HeraldClientStatus[] = [];
  return {
    events,
    statuses,
    handler: (event: E) => void events.push(event),
    status: (status: HeraldClientStatus) => void statuses.push(status),
    waitForCount: (n: number, timeoutMs = 10_000) => waitFor(() => events.length >= n, timeoutMs, `${n} events (have ${events.length})`),
    ids: () => events.map((e) => e.id),
  };
}
