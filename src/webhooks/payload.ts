/**
 * The JSON body of a delivery: `{ "type", "timestamp", "data": { ...event } }`, the shape Standard Webhooks
 * recommends. `type` is the snake_case event type; `data` carries the event's common fields and its payload.
 */
import type { HeraldEvent } from '../events/model.js';
import type { Cursor } from '../events/cursor.js';

export interface WebhookPayload {
  readonly type: string;
  /** When the event happened (ISO-8601, UTC); the same on every retry. */
  readonly timestamp: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The body of a delivery of `event` (at `cursor` in the log), serialized once: the signature covers these exact bytes. */
export function eventPayload(event: HeraldEvent, cursor: Cursor): string {
  const timestamp = new Date(event.timestamp).toISOString();
  const payload: WebhookPayload = {
    type: event.type,
    timestamp,
    data: {
      id: event.id,
      type: event.type,
      level: event.level,
      userId: event.userId,
      source: event.source,
      timestamp,
      cursor,
      // The catalogue forbids payload fields named like the ones above (test/unit/catalogue.test.ts).
      ...event.data,
    },
  };
  return JSON.stringify(payload);
}

/** The body of `sendTestWebhook`: a `webhook_test` message, never an event of the log. */
export function testPayload(endpointId: string, now: number): string {
  const timestamp = new Date(now).toISOString();
  return JSON.stringify({
    type: 'webhook_test',
    timestamp,
    data: { endpointId, message: 'Test delivery from Herald: your endpoint is reachable and can verify signatures.' },
  } satisfies WebhookPayload);
}
