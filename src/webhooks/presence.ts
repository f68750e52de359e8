/**
 * Whether an endpoint's owner had a live subscription receiving an event when it was published: what
 * `WHEN_OFFLINE` endpoints depend on. Recorded on the event bus in the same tick as the live fan-out, kept in a
 * bounded map until the enqueuer has processed the event. Unknown (evicted, or recorded before a restart) means
 * "offline": a webhook may then duplicate a live delivery, but nothing is lost.
 *
 * In a cluster, an owner connected to another instance is online too: each instance also reports, per event,
 * which candidate owners it delivered it to live (a `PresenceBoard`, Redis when REDIS_URL is set), and the
 * enqueuer counts an owner live when any instance did. Every error falls on the safe side: an instance that
 * has not reported (yet, or cannot reach the board) counts as "not live", so the webhook is sent.
 */
import type { EventBus } from '../events/event-bus.js';
import type { EventId, HeraldEvent } from '../events/model.js';
import type { Router } from '../events/router.js';
import type { EndpointDirectory } from './directory.js';

export interface PresenceLog {
  /** true = the owner received it live; false = not; undefined = not recorded. */
  wasLive(eventId: EventId, ownerId: string): boolean | undefined;
  /** Whether the event has passed through the bus on this instance. */
  seen(eventId: EventId): boolean;
  record(eventId: EventId, ownerId: string, live: boolean): void;
  markSeen(eventId: EventId): void;
  forget(eventId: EventId): void;
  readonly size: number;
}

/**
 * @param limit events remembered at most; the oldest are dropped first. @default 100000
 */
export function createPresenceLog(limit = 100_000): PresenceLog {
  const events = new Map<EventId, Map<string, boolean>>();
  const entry = (eventId: EventId) => {
    let owners = events.get(eventId);
    if (!owners) {
      if (events.size >= limit) events.delete(events.keys().next().value as EventId);
      events.set(eventId, (owners = new Map()));
    }
    return owners;
  };
  return {
    wasLive: (eventId, ownerId) => events.get(eventId)?.get(ownerId),
    seen: (eventId) => events.has(eventId),
    record: (eventId, ownerId, live) => void entry(eventId).set(ownerId, live),
    markSeen: (eventId) => void entry(eventId),
    forget: (eventId) => void events.delete(eventId),
    get size() {
      return events.size;
    },
  };
}

/** The reports of one event on the board. */
export interface BoardEntry {
  /** Instances that reported the event. */
  readonly reported: ReadonlySet<string>;
  /** Owners some instance delivered it to live. */
  readonly live: ReadonlySet<string>;
}

/** What the board says about some events, and which other instances are alive to report. */
export interface BoardView {
  /** The other instances alive now (this one excluded). */
  readonly instances: ReadonlySet<string>;
  readonly entries: ReadonlyMap<EventId, BoardEntry>;
}

/** Presence shared between instances (see the header). */
export interface PresenceBoard {
  /** Reports that this instance saw `eventId` and delivered it live to `liveOwners` (of its WHEN_OFFLINE candidates). */
  report(eventId: EventId, liveOwners: readonly string[]): void;
  /** What the other instances reported for these events; never rejects (an unreachable board is an empty view). */
  read(eventIds: readonly EventId[]): Promise<BoardView>;
  close(): Promise<void>;
}

/**
 * Records presence for the owners of `WHEN_OFFLINE` endpoints wanting each event. Subscribe it AFTER the hub,
 * so it runs in the same tick as the router's fan-out. @returns the function that stops it.
 */
export function recordPresence(options: {
  readonly bus: EventBus;
  readonly router: Pick<Router, 'hasLiveSubscriber'>;
  readonly directory: EndpointDirectory;
  readonly presence: PresenceLog;
  /** With other instances: where this one reports what it saw. */
  readonly board?: PresenceBoard;
}): () => void {
  const { router, directory, presence, board } = options;
  return options.bus.subscribe((event: HeraldEvent) => {
    if (!directory.hasWhenOffline()) return;
    presence.markSeen(event.id);
    let candidates = false;
    const liveOwners: string[] = [];
    for (const endpoint of directory.candidates(event)) {
      if (endpoint.mode !== 'WHEN_OFFLINE') continue;
      candidates = true;
      const live = router.hasLiveSubscriber(endpoint.ownerId, event);
      presence.record(event.id, endpoint.ownerId, live);
      if (live) liveOwners.push(endpoint.ownerId);
    }
    if (candidates) board?.report(event.id, liveOwners);
  });
}
