/**
 * Delivers committed events to the router in log order, each once, whatever order the bus brings them in:
 * the rule that makes a cursor safe with several writers (docs/cursors.md).
 *
 * Positions are reserved by writers before they commit, so they can commit out of order, and a bus can lose a
 * message. The sequencer delivers only the contiguous prefix of positions: an event after a missing position
 * waits. A position still missing after `holeWaitMs`, while a later one is known to be committed, is looked
 * up in the log (the bus lost it: backfill) or closed there (`EventStore.abandon`: its writer died or lost a
 * race; a writer that commits there later fails on the log's unique index and takes a new position). So when
 * the sequencer has delivered up to `position`, no event can ever commit at or below it: a client holding a
 * cursor up to there can never miss one, and a replay may read the log up to `position` and find everything.
 */
import type { EventStore } from './event-store.js';
import { isAfter, positionOf, type HeraldEvent, type LogPosition } from './model.js';

export interface SequencerOptions {
  readonly store: Pick<EventStore, 'list' | 'abandon'>;
  /** Everything up to here is already delivered or will never be (the log's head at start-up). */
  readonly start: LogPosition;
  /** Called per event, in log order, once. */
  readonly deliver: (event: HeraldEvent) => void;
  /** How long a missing position may hold back later ones before the log is asked. @default 250 */
  readonly holeWaitMs?: number;
  /** Events read from the log per backfill query. @default 500 */
  readonly batchSize?: number;
  /** A backfill that failed (the store was unreachable); it is retried after `holeWaitMs`. */
  readonly onError?: (error: unknown) => void;
}

export interface Sequencer {
  /** An event from the bus (any order, possibly twice). */
  push(event: HeraldEvent): void;
  /** Everything up to here has been delivered (or closed as abandoned). */
  readonly position: LogPosition;
  /** Events held back behind a missing position. */
  readonly waiting: number;
  /** The bus may have missed events (it reconnected): read the log after `position` soon. */
  catchUp(): void;
  close(): void;
}

/** Log pages one round reads at most (the rest waits for the next round). */
const MAX_PAGES_PER_ROUND = 20;

export function createSequencer(options: SequencerOptions): Sequencer {
  const { store, deliver } = options;
  const holeWaitMs = options.holeWaitMs ?? 250;
  const batchSize = options.batchSize ?? 500;
  let position = options.start;
  /** Events after a missing position, with when they were first seen. */
  const held = new Map<number, { event: HeraldEvent; at: number }>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let resolving = false;
  let closed = false;

  function advance(event: HeraldEvent): void {
    position = positionOf(event);
    deliver(event);
  }

  /** Delivers the held events that continue the prefix. */
  function drainHeld(): void {
    for (let next = held.get(position + 1); next; next = held.get(position + 1)) {
      held.delete(next.event.seq);
      advance(next.event);
    }
  }

  function schedule(): void {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void resolve();
    }, holeWaitMs);
    timer.unref?.();
  }

  /**
   * Closes the positions between the prefix and `upTo` (exclusive), each in turn; false when closed meanwhile.
   * The bus may deliver while a close is awaited: a position it filled meanwhile is left as it is.
   */
  async function fill(upTo: number): Promise<boolean> {
    while (position + 1 < upTo) {
      const seq = position + 1;
      const late = store.abandon ? await store.abandon(seq) : null;
      if (closed) return false;
      if (position + 1 !== seq) continue;
      if (late && isAfter(late, position)) advance(late);
      else position = seq as LogPosition;
      drainHeld();
    }
    return true;
  }

  /**
   * One round: reads the log after the prefix (holding what it shows: the bus may have lost it), then closes
   * the positions below the lowest event held for longer than the wait. A position younger than that is left
   * to its writer; one that was only slow loses nothing either: its writer takes a new position.
   */
  async function resolve(): Promise<void> {
    if (resolving || closed) return;
    resolving = true;
    try {
      const now = Date.now();
      let after: number = position;
      for (let pages = 0; pages < MAX_PAGES_PER_ROUND; pages++) {
        const page = await store.list({ filter: {}, afterSeq: after, order: 'ASC', limit: batchSize });
        if (closed) return;
        for (const event of page) if (isAfter(event, position) && !held.has(event.seq)) held.set(event.seq, { event, at: now });
        drainHeld();
        if (page.length < batchSize) break;
        after = page[page.length - 1]!.seq;
      }
      let ripe = Infinity;
      for (const [seq, { at }] of held) if (at <= now - holeWaitMs && seq < ripe) ripe = seq;
      if (ripe !== Infinity && !(await fill(ripe))) return;
    } catch (error) {
      options.onError?.(error);
    } finally {
      resolving = false;
      if (held.size > 0) schedule();
    }
  }

  return {
    push(event) {
      if (closed || !isAfter(event, position)) return;
      if (event.seq === position + 1) {
        advance(event);
        drainHeld();
        return;
      }
      if (!held.has(event.seq)) held.set(event.seq, { event, at: Date.now() });
      schedule();
    },
    get position() {
      return position;
    },
    get waiting() {
      return held.size;
    },
    catchUp() {
      schedule();
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      held.clear();
    },
  };
}
