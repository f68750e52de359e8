/**
 * Session revocation: "this user's tokens issued until now are no good, and their live sessions end", on every
 * instance and after restarts. The revocation is written to the store first (the source of truth, shared by all
 * instances on one database), applied here at once, and picked up by the other instances' poll within
 * `pollMs`. A token is refused when it was issued (`iat`) at or before the user's latest revocation; `iat` has
 * one-second resolution, so a token minted in the same second as the revocation is refused too.
 */
import { DEFAULTS } from '../config.js';

/** One user's latest revocation. */
export interface Revocation {
  readonly userId: string;
  /** Tokens issued at or before this instant (ms since the epoch) are refused. */
  readonly revokedAt: number;
}

/** Where revocations are kept (SQLite table or MongoDB collection, beside the event log). */
export interface RevocationStore {
  /** Records the revocation, keeping the latest per user. */
  revoke(revocation: Revocation): Promise<void>;
  /** Revocations at or after `since` (ms). */
  since(since: number): Promise<Revocation[]>;
  /** Forgets revocations before `before` (no token issued before then is still valid anyway). */
  prune(before: number): Promise<void>;
}

export interface RevocationsOptions {
  readonly store: RevocationStore;
  /** Ends the user's live sessions whose token was issued at or before `revokedAt`; returns how many. */
  readonly closeSessions: (revocation: Revocation) => number;
  /** How often other instances' revocations are read. @default 500 */
  readonly pollMs?: number;
  /** The longest token lifetime (JWT_MAX_AGE): older revocations cannot refuse anything. @default 86400000 */
  readonly maxTokenAgeMs?: number;
  readonly onError?: (error: unknown) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface Revocations {
  /** Whether a token of `userId` issued at `issuedAt` (ms; 0 when the token has no `iat`) is revoked. */
  isRevoked(userId: string, issuedAt: number): boolean;
  /** Revokes the user's tokens issued until now and ends their sessions here; other instances follow within `pollMs`. */
  revoke(userId: string): Promise<number>;
  /** Loads the revocations that can still refuse a token, then polls for new ones. */
  start(): Promise<void>;
  stop(): void;
}

/** How far back each poll looks again, for writes that committed late or clocks a little apart. */
const POLL_OVERLAP_MS = 5_000;

export function createRevocations(options: RevocationsOptions): Revocations {
  const { store } = options;
  const pollMs = options.pollMs ?? 500;
  const maxAge = options.maxTokenAgeMs ?? DEFAULTS.JWT_MAX_AGE;
  const now = options.now ?? Date.now;
  const latest = new Map<string, number>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let polledAt = 0;
  let polling = false;

  /** Applies one revocation; ends the sessions it newly covers. */
  function apply(revocation: Revocation): number {
    if ((latest.get(revocation.userId) ?? -Infinity) >= revocation.revokedAt) return 0;
    latest.set(revocation.userId, revocation.revokedAt);
    return options.closeSessions(revocation);
  }

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    const started = now();
    try {
      for (const revocation of await store.since(polledAt - POLL_OVERLAP_MS)) apply(revocation);
      polledAt = started;
      // Forget what can no longer refuse a token (bounded memory and store).
      const horizon = started - maxAge - POLL_OVERLAP_MS;
      for (const [userId, at] of latest) if (at < horizon) latest.delete(userId);
    } catch (error) {
      options.onError?.(error);
    } finally {
      polling = false;
    }
  }

  return {
    isRevoked(userId, issuedAt) {
      const revokedAt = latest.get(userId);
      return revokedAt !== undefined && issuedAt <= revokedAt;
    },
    async revoke(userId) {
      const revocation = { userId, revokedAt: now() };
      await store.revoke(revocation);
      return apply(revocation);
    },
    async start() {
      polledAt = now() - maxAge;
      await poll();
      await store.prune(now() - maxAge - POLL_OVERLAP_MS).catch((error: unknown) => options.onError?.(error));
      timer ??= setInterval(() => void poll(), pollMs);
      timer.unref?.();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
