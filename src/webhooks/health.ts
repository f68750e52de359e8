/**
 * Endpoint health: tracks since when an endpoint has been failing without a single success, disables it after
 * `disableAfterMs` of that (or at once on 410 Gone), and announces the automatic disable to its owner.
 * Updates for one endpoint are applied one at a time, in the order the results arrived. `states()` counts the
 * endpoints by health for metrics (counts, not one series per endpoint: endpoints are as many as suppliers).
 */
import type { EndpointDirectory } from './directory.js';
import type { DisabledReason, EndpointId, WebhookEndpoint } from './model.js';
import type { EndpointSignal } from './outcome.js';
import type { WebhookStore } from './webhook-store.js';

export interface EndpointHealthOptions {
  readonly store: Pick<WebhookStore, 'updateEndpoint'>;
  readonly directory: EndpointDirectory;
  /** Continuous failure for this long disables the endpoint. */
  readonly disableAfterMs: number;
  /** Told about every automatic disable (publishes `webhook_endpoint_disabled`). Failures go to `onError`. */
  readonly onDisabled: (endpoint: WebhookEndpoint) => Promise<void>;
  readonly onError?: (error: unknown) => void;
  /** Told of each change of an endpoint's health as it is stored (metrics). */
  readonly onTransition?: (to: HealthTransition) => void;
}

/** `failing`: a first failure after success; `recovered`: a success after failures; `disabled`: switched off by health. */
export type HealthTransition = 'failing' | 'recovered' | 'disabled_gone' | 'disabled_failing';

/** Endpoints by health: enabled and succeeding, enabled but failing since some time, disabled (by reason). */
export interface EndpointStates {
  healthy: number;
  failing: number;
  disabled: Record<DisabledReason, number>;
}

export interface EndpointHealth {
  observe(endpointId: EndpointId, signal: EndpointSignal, at: number): void;
  /** Counts every endpoint the directory holds by health, now. */
  states(): EndpointStates;
  /** Resolves when every observed signal has been applied. */
  settled(): Promise<void>;
}

export function createEndpointHealth(options: EndpointHealthOptions): EndpointHealth {
  const { store, directory } = options;
  const chains = new Map<EndpointId, Promise<void>>();

  const apply = async (id: EndpointId, signal: EndpointSignal, at: number) => {
    const endpoint = directory.get(id);
    if (!endpoint) return;
    const patch = async (changes: Parameters<typeof store.updateEndpoint>[1]) => {
      const updated = await store.updateEndpoint(id, changes, at);
      if (updated) directory.put(updated);
      return updated;
    };
    const disable = async (reason: 'GONE' | 'FAILING') => {
      const updated = await patch({ enabled: false, disabledReason: reason, disabledAt: at });
      if (updated) options.onTransition?.(reason === 'GONE' ? 'disabled_gone' : 'disabled_failing');
      if (updated) await options.onDisabled(updated);
    };
    if (signal === 'ok') {
      if (endpoint.failingSince !== null && (await patch({ failingSince: null }))) options.onTransition?.('recovered');
    } else if (endpoint.enabled) {
      if (signal === 'gone') await disable('GONE');
      else if (endpoint.failingSince === null) {
        if (await patch({ failingSince: at })) options.onTransition?.('failing');
      } else if (at - endpoint.failingSince >= options.disableAfterMs) await disable('FAILING');
    }
  };

  return {
    observe(id, signal, at) {
      const endpoint = directory.get(id);
      // The common case (healthy endpoint, success) needs no write and no queueing.
      if (signal === 'ok' && endpoint?.failingSince === null && !chains.has(id)) return;
      const previous = chains.get(id) ?? Promise.resolve();
      const next = previous
        .then(() => apply(id, signal, at))
        .catch((error: unknown) => options.onError?.(error))
        .finally(() => {
          if (chains.get(id) === next) chains.delete(id);
        });
      chains.set(id, next);
    },
    states() {
      const states: EndpointStates = { healthy: 0, failing: 0, disabled: { GONE: 0, FAILING: 0, MANUAL: 0 } };
      for (const endpoint of directory.all()) {
        if (!endpoint.enabled) states.disabled[endpoint.disabledReason ?? 'MANUAL']++;
        else if (endpoint.failingSince !== null) states.failing++;
        else states.healthy++;
      }
      return states;
    },
    async settled() {
      while (chains.size) await Promise.all(chains.values());
    },
  };
}
