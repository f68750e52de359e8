/** Reconnect delays: capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"). */

export interface BackoffOptions {
  /** Upper bound of the first delay, in ms. @default 1000 */
  readonly initialDelayMs?: number;
  /** Cap of every delay, in ms. @default 30000 */
  readonly maxDelayMs?: number;
  /** Source of randomness in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/**
 * The delay before retry number `attempt` (0-based): uniformly random in [0, min(max, initial * 2^attempt)].
 * Full jitter spreads the clients a server restart disconnected at the same instant.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 30_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}
