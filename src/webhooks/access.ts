/**
 * Who may manage which endpoint: a supplier its own, an admin any, nobody else. An endpoint that is not the
 * viewer's is reported as not found, so ids of other owners' endpoints cannot be probed.
 */
import type { Viewer } from '../events/model.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { EndpointId, WebhookEndpoint } from './model.js';
import type { WebhookStore } from './webhook-store.js';

export interface EndpointAccess {
  /** @throws ForbiddenError unless the viewer is a supplier or an admin. */
  mayManage(viewer: Viewer): void;
  /** The endpoint, when the viewer may manage it. @throws ForbiddenError, NotFoundError */
  owned(viewer: Viewer, id: EndpointId): Promise<WebhookEndpoint>;
}

export function createEndpointAccess(store: Pick<WebhookStore, 'getEndpoint'>): EndpointAccess {
  const mayManage = (viewer: Viewer) => {
    if (viewer.role !== 'supplier' && viewer.role !== 'admin') {
      throw new ForbiddenError('Webhook endpoints are for supplier and admin tokens only');
    }
  };
  return {
    mayManage,
    async owned(viewer, id) {
      mayManage(viewer);
      const endpoint = await store.getEndpoint(id);
      if (!endpoint || (viewer.role !== 'admin' && endpoint.ownerId !== viewer.userId)) {
        throw new NotFoundError(`No webhook endpoint ${JSON.stringify(String(id).slice(0, 60))}`);
      }
      return endpoint;
    },
  };
}
