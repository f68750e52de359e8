/**
 * The delivery log of an endpoint (every delivery with every attempt) and replays: one delivery again, or
 * everything that matched since a time, to recover from an outage.
 */
import type { EventStore } from '../events/event-store.js';
import type { Viewer } from '../events/model.js';
import { audienceOf } from '../events/visibility.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { EndpointAccess } from './access.js';
import { endpointWants } from './directory.js';
import {
  newDelivery,
  type DeliveryId,
  type DeliveryStatus,
  type DeliveryView,
  type EndpointId,
  type WebhookDelivery,
  type WebhookEndpoint,
} from './model.js';
import type { WebhookStore } from './webhook-store.js';

export interface DeliveryPage {
  readonly items: readonly DeliveryView[];
  readonly hasNextPage: boolean;
}

export interface ReplayResult {
  readonly queued: number;
  /** More events matched than one replay takes (`maxReplay`): replay again from the last one's time. */
  readonly truncated: boolean;
}

export interface DeliveryLogApi {
  /** Newest first; `after` is the last id of the previous page. */
  deliveries(viewer: Viewer, endpointId: EndpointId, query: { status?: DeliveryStatus; first: number; after?: string }): Promise<DeliveryPage>;
  /** Makes a delivery pending again (a new round of the retry schedule), whatever its status. */
  replayDelivery(viewer: Viewer, id: DeliveryId): Promise<DeliveryView>;
  /** Queues every matching event since `since` again (delivered or not, whatever the mode). */
  replayEndpoint(viewer: Viewer, endpointId: EndpointId, since: number): Promise<ReplayResult>;
}

export interface DeliveryLogOptions {
  readonly store: WebhookStore;
  readonly events: Pick<EventStore, 'list'>;
  readonly access: EndpointAccess;
  /** Delay of a requeued delivery's first attempt. @default 0 */
  readonly firstDelayMs?: number;
  /** Told when deliveries were queued, to wake the dispatcher. */
  readonly onQueued?: (endpointIds: readonly EndpointId[]) => void;
  /** Events one `replayEndpoint` queues at most. @default 10000 */
  readonly maxReplay?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

const MAX_PAGE = 100;

const invalid = (field: string, message: string) => new ValidationError(`${field}: ${message}`, { details: { field } });

export function createDeliveryLogApi(options: DeliveryLogOptions): DeliveryLogApi {
  const { store, access } = options;
  const owned = access.owned;
  const now = options.now ?? Date.now;
  const maxReplay = options.maxReplay ?? 10_000;
  const firstDelayMs = options.firstDelayMs ?? 0;

  const withAttempts = async (deliveries: readonly WebhookDelivery[]): Promise<DeliveryView[]> => {
    const attempts = await store.listAttempts(deliveries.map((d) => d.id));
    return deliveries.map((d) => ({ ...d, attemptLog: attempts.filter((a) => a.deliveryId === d.id) }));
  };

  return {
    async deliveries(viewer, endpointId, { status, first, after }) {
      await owned(viewer, endpointId);
      if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw invalid('first', `must be between 1 and ${MAX_PAGE}`);
      if (after !== undefined && !/^whd_[0-9A-Z]{26}$/.test(after)) throw invalid('after', 'is not a cursor from webhookDeliveries');
      const rows = await store.listDeliveries({ endpointId, status, beforeId: after as DeliveryId | undefined, limit: first + 1 });
      return { items: await withAttempts(rows.slice(0, first)), hasNextPage: rows.length > first };
    },

    async replayDelivery(viewer, id) {
      access.mayManage(viewer);
      const missing = () => new NotFoundError(`No webhook delivery ${JSON.stringify(String(id).slice(0, 60))}`);
      const delivery = await store.getDelivery(id);
      if (!delivery) throw missing();
      await owned(viewer, delivery.endpointId).catch((error: unknown) => {
        throw error instanceof NotFoundError ? missing() : error;
      });
      const at = now();
      await store.requeue([{ ...delivery, nextAttemptAt: at + firstDelayMs, updatedAt: at }]);
      options.onQueued?.([delivery.endpointId]);
      const [view] = await withAttempts([(await store.getDelivery(id)) ?? delivery]);
      return view!;
    },

    async replayEndpoint(viewer, endpointId, since) {
      const endpoint = await owned(viewer, endpointId);
      if (!Number.isFinite(since) || since > now()) throw invalid('since', 'must be a time in the past');
      const owner: Viewer = { userId: endpoint.ownerId, role: endpoint.ownerRole };
      // Replays ignore the mode and the creation time: the owner asks for everything matching since `since`.
      const target: WebhookEndpoint = { ...endpoint, enabled: true, createdAt: 0 };
      const filter = { from: since, types: endpoint.eventTypes, audience: audienceOf(owner, endpoint.eventTypes) };
      let afterSeq: number | undefined;
      let queued = 0;
      let read = 0;
      while (read < maxReplay) {
        const batch = await options.events.list({ filter, afterSeq, order: 'ASC', limit: Math.min(500, maxReplay - read) });
        if (batch.length === 0) break;
        read += batch.length;
        afterSeq = batch[batch.length - 1]!.seq;
        const at = now();
        const wanted = batch.filter((event) => endpointWants(target, event));
        queued += await store.requeue(wanted.map((event) => newDelivery(endpoint, event, at, firstDelayMs)));
      }
      const truncated = read >= maxReplay && (await options.events.list({ filter, afterSeq, order: 'ASC', limit: 1 })).length > 0;
      if (queued) options.onQueued?.([endpointId]);
      return { queued, truncated };
    },
  };
}
