/**
 * Carries committed events to every instance's router. In-process today; a Redis-backed bus
 * implements the same two methods when Herald runs on several instances.
 */
import type { HeraldEvent } from './model.js';

export interface EventBus {
  /** Announces committed events, in seq order. */
  publish(events: readonly HeraldEvent[]): void;
  /** Receives every announced event; returns the function that stops it. */
  subscribe(handler: (event: HeraldEvent) => void): () => void;
}

export function createLocalEventBus(onHandlerError: (error: unknown) => void = () => {}): EventBus {
  const handlers = new Set<(event: HeraldEvent) => void>();
  return {
    publish(events) {
      for (const event of events) {
        for (const handler of handlers) {
          try {
            handler(event);
          } catch (error) {
            onHandlerError(error);
          }
        }
      }
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
}
