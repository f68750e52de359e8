/**
 * The event as the hub keeps it. Transports, stores and resolvers all speak this type.
 */
import type { EventLevel, EventTypeName, Role } from './catalogue.js';

/** Event ids are opaque strings (`evt_` + 26 Crockford base32 chars, time-ordered). */
export type EventId = string & { readonly __brand: 'EventId' };

/** A published event before the store has given it a position in the log. */
export interface NewEvent {
  readonly id: EventId;
  readonly type: EventTypeName;
  readonly level: EventLevel;
  /** The user the event is addressed to, if any. */
  readonly userId: string | null;
  /** Role broadcast: every user of these roles may receive it (subject to the catalogue). */
  readonly roles: readonly Role[];
  /** The service that published it, e.g. `orders-service`. */
  readonly source: string;
  /** Milliseconds since the epoch, set by the hub when it accepts the event. */
  readonly timestamp: number;
  /** The typed payload, validated against the event type. */
  readonly data: Readonly<Record<string, unknown>>;
  /** Delivery this event belongs to, copied from `data.deliveryId` for tracking queries. */
  readonly deliveryId: string | null;
  /** Client-chosen key: the same key published twice yields one event. */
  readonly idempotencyKey: string | null;
}

/** A committed event: it has a position (`seq`) in the log, strictly increasing in commit order. */
export interface HeraldEvent extends NewEvent {
  readonly seq: number;
}

declare const logPosition: unique symbol;

/**
 * A position in the event log: where a subscriber has read up to, or a replay starts after. Owned by the log:
 * positions are made, compared and encoded only by the functions below, so what a position is can change in one
 * place (today the event's `seq`, assigned at commit by the single writer; with several writers, a position must
 * stay safe to resume from when an event commits late).
 */
export type LogPosition = number & { readonly [logPosition]: true };

/** Before the first event (positions start at 1). */
export const LOG_START = 0 as LogPosition;

/** The position just at `event` (a subscriber that delivered it has read up to here). */
export const positionOf = (event: HeraldEvent): LogPosition => event.seq as LogPosition;

/** Whether `event` comes after `position` (so a subscriber at `position` has not delivered it yet). */
export const isAfter = (event: HeraldEvent, position: LogPosition): boolean => event.seq > position;

/** Who is looking: derived from a verified token. */
export interface Viewer {
  readonly userId: string;
  readonly role: Role;
}
