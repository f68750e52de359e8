/** The webhook API the GraphQL resolvers use: endpoints plus their delivery log. */
import type { EventStore } from '../events/event-store.js';
import { createEndpointAccess } from './access.js';
import { createDeliveryLogApi, type DeliveryLogApi } from './delivery-log.js';
import type { EndpointDirectory } from './directory.js';
import { createEndpointApi, type EndpointApi } from './endpoints.js';
import type { EndpointId } from './model.js';
import type { WebhookSender } from './sender.js';
import type { LookupFn, UrlPolicy } from './ssrf-guard.js';
import type { WebhookStore } from './webhook-store.js';

export type WebhookApi = EndpointApi & DeliveryLogApi;

export interface WebhookApiOptions {
  readonly store: WebhookStore;
  readonly events: Pick<EventStore, 'list'>;
  readonly directory: EndpointDirectory;
  readonly sender: WebhookSender;
  readonly policy: UrlPolicy;
  /** @default the system resolver */
  readonly lookup?: LookupFn;
  /** Delay of a (re)queued delivery's first attempt. @default 0 */
  readonly firstDelayMs?: number;
  /** Told when deliveries may be due, to wake the dispatcher. */
  readonly onQueued?: (endpointIds: readonly EndpointId[]) => void;
}

export function createWebhookApi(options: WebhookApiOptions): WebhookApi {
  const access = createEndpointAccess(options.store);
  return {
    ...createEndpointApi({ ...options, access }),
    ...createDeliveryLogApi({ ...options, access }),
  };
}
