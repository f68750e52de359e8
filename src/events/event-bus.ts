/**
 * Carries committed events to every instance's router. In-process with one instance; with several, a bus
 * between them (Redis, `src/bus/`) implements the same interface, and says when its link to the other
 * instances was lost and re-established, so the hub can read what it may have missed from the log.
 */
import type { HeraldEvent } from './model.js';

/** The bus (re)started receiving every instance's events. */
export interface BusSubscribed {
  /** false the first time the bus is subscribed, true every time after a loss. */
  readonly reconnect: boolean;
  /** When the previous subscription was lost (ms since the epoch); null the first time. */
  readonly lostAt: number | null;
  /** When this subscription was established (ms since the epoch). */
  readonly at: number;
}

export interface EventBus {
  /**
   * Announces committed events, in the order this instance committed them. Never throws and never waits:
   * a bus that cannot reach the other instances still delivers to this instance's handlers.
   */
  publish(events: readonly HeraldEvent[]): void;
  /**
   * Receives every announced event, each once: this instance's at once (synchronously, inside `publish`),
   * other instances' as they arrive. Events of one instance arrive in the order it announced them; events of
   * different instances interleave in any order, not by position. Returns the function that stops it.
   */
  subscribe(handler: (event: HeraldEvent) => void): () => void;
  /**
   * Called each time the bus starts receiving other instances' events: first at start-up, then after every
   * loss. Events other instances announced before `at` (since the start, or since `lostAt`) may never arrive
   * on this bus: read them from the log. Absent on buses that cannot miss any (in-process).
   * @returns the function that removes the listener.
   */
  onSubscribed?(listener: (info: BusSubscribed) => void): () => void;
  /** Called when the link is lost (`at`, ms since the epoch): other instances' events stop arriving until `onSubscribed`. */
  onLost?(listener: (at: number) => void): () => void;
  /** Releases the bus's connections; `publish` then delivers to local handlers only. */
  close?(): Promise<void>;
}

/** The handlers of one bus: each event goes to every handler; one that throws does not stop the others. */
export interface BusHandlers {
  subscribe(handler: (event: HeraldEvent) => void): () => void;
  deliver(events: readonly HeraldEvent[]): void;
}

export function createBusHandlers(onHandlerError: (error: unknown) => void = () => {}): BusHandlers {
  const handlers = new Set<(event: HeraldEvent) => void>();
  return {
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    deliver(events) {
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
  };
}

export function createLocalEventBus(onHandlerError: (error: unknown) => void = () => {}): EventBus {
  const handlers = createBusHandlers(onHandlerError);
  return { publish: handlers.deliver, subscribe: handlers.subscribe };
}
