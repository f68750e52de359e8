/**
 * What the soak run publishes and who may see it, written out on its own (not imported from src/events) so the
 * comparison checks Herald against the rule as documented, not against Herald's own code: an admin sees every
 * event; a customer or supplier sees the events addressed to its id and the broadcasts to its role (both soak
 * types are in both roles' audiences). A supplier's webhook endpoint for ORDER_CREATED (minLevel HIGH, mode
 * ALWAYS) gets every order_created addressed to its owner or broadcast to suppliers (order_created is HIGH).
 */
import { cursorParts } from '../utils/cursors.js';

export type SoakType = 'order_created' | 'wallet_updated';
export type SoakRole = 'customer' | 'supplier' | 'admin';

/** An event a publisher got an answer for: what it asked for and what Herald answered. */
export interface AckedEvent {
  readonly key: string;
  readonly id: string;
  /** The position the answer's cursor names. */
  readonly seq: number;
  readonly type: SoakType;
  readonly userId: string | null;
  readonly roles: readonly string[];
}

export interface SoakViewer {
  readonly sub: string;
  readonly role: SoakRole;
}

export function maySee(viewer: SoakViewer, event: Pick<AckedEvent, 'userId' | 'roles'>): boolean {
  if (viewer.role === 'admin') return true;
  return event.userId === viewer.sub || event.roles.includes(viewer.role);
}

export function webhookMatches(ownerId: string, event: Pick<AckedEvent, 'type' | 'userId' | 'roles'>): boolean {
  return event.type === 'order_created' && (event.userId === ownerId || event.roles.includes('supplier'));
}

export const customerId = (i: number) => `cus_soak_${i}`;
export const supplierId = (i: number) => `sup_soak_${i}`;

/** The subscription every soak subscriber holds (both transports). */
export const SOAK_TYPES_ENUM = ['ORDER_CREATED', 'WALLET_UPDATED'] as const;

/**
 * Every cursor's log epoch seen in this run (answers, receipts, the log read back): one log, so exactly one,
 * across restarts too (a second epoch would make every resume a foreign cursor).
 */
export const epochsSeen = new Set<string>();

/** The log position a cursor names (and its epoch recorded in `epochsSeen`). */
export function seqOf(cursor: string): number {
  const { epoch, seq } = cursorParts(cursor);
  epochsSeen.add(epoch);
  return seq;
}
