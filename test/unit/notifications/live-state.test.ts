/**
 * Live read state without I/O: a fake `compute` and store. Changes during a computation run one more after it (the
 * last state pushed is the newest), an unchanged state is not pushed twice, other instances' changes arrive through
 * the poll, and a failing first computation ends the watcher with the error.
 */
import { describe, expect, it } from 'vitest';
import { createLiveState } from '../../../src/notifications/live-state.js';
import type { NotificationState } from '../../../src/notifications/model.js';
import { deferred, waitFor } from '../../utils/deferred.js';

const viewer = { userId: 'u1', role: 'customer' } as const;
/** A state; `updatedAt` grows with every change, as the writer makes it (default: 100 - unreadCount). */
const stateOf = (unreadCount: number, updatedAt: number | null = 100 - unreadCount): NotificationState => ({
  unreadCount,
  unreadCountCapped: false,
  readThrough: null,
  clearedThrough: null,
  updatedAt,
});

async function take(it: AsyncIterator<NotificationState>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await it.next()).value.unreadCount);
  return out;
}

describe('createLiveState', () => {
  it('runs one more computation for changes made during one, and pushes only states that differ', async () => {
    let current = 5;
    let calls = 0;
    let gate = deferred<void>();
    const live = createLiveState({
      store: { changedSince: async () => [] },
      compute: async () => {
        calls++;
        await gate.promise;
        return stateOf(current);
      },
      pollMs: 0,
    });
    const feed = live.watch(viewer);
    await waitFor(() => calls === 1, 1000, 'first computation');
    current = 4;
    live.changed(viewer);
    current = 3;
    live.changed(viewer);
    gate.resolve();
    // The first computation saw 3 already (it read `current` after the gate); the coalesced rerun gives 3 again: not pushed.
    expect(await take(feed, 1)).toEqual([3]);
    await waitFor(() => calls === 2, 1000, 'one coalesced rerun');
    gate = deferred<void>();
    gate.resolve();
    current = 2;
    live.changed(viewer);
    expect(await take(feed, 1)).toEqual([2]);
    expect(calls).toBe(3);
    await feed.return!();
    expect(live.watched).toBe(0);
  });

  it('pushes a state computed by the writer without computing again, and drops one older than what was pushed', async () => {
    let calls = 0;
    const live = createLiveState({
      store: { changedSince: async () => [] },
      compute: async () => {
        calls++;
        return stateOf(9, 1);
      },
      pollMs: 0,
    });
    const feed = live.watch(viewer);
    expect(await take(feed, 1)).toEqual([9]);
    live.changed(viewer, stateOf(7, 3));
    expect(await take(feed, 1)).toEqual([7]);
    // A slower writer's state from before the last change is not pushed after it.
    live.changed(viewer, stateOf(8, 2));
    const next = feed.next();
    expect(await Promise.race([next.then(() => 'pushed'), new Promise((r) => setTimeout(() => r('quiet'), 50))])).toBe('quiet');
    live.changed(viewer, stateOf(6, 4));
    expect((await next).value.unreadCount).toBe(6);
    expect(calls).toBe(1);
    live.stop();
  });

  it("refreshes a watched reader when the shared store says another instance changed it", async () => {
    let current = 1;
    let changes: { key: string; updatedAt: number }[] = [];
    const live = createLiveState({
      store: { changedSince: async () => changes as never },
      compute: async () => stateOf(current, current * 10),
      pollMs: 20,
    });
    const feed = live.watch(viewer);
    expect(await take(feed, 1)).toEqual([1]);
    current = 2;
    changes = [{ key: 'customer:u1', updatedAt: 20 }];
    expect(await take(feed, 1)).toEqual([2]);
    // Seen already: the poll does not compute again.
    current = 3;
    const next = feed.next();
    const raced = await Promise.race([next.then(() => 'pushed'), new Promise((r) => setTimeout(() => r('quiet'), 100))]);
    expect(raced).toBe('quiet');
    live.stop();
    expect((await next).done).toBe(true);
  });

  it('ends a watcher with the error when its first state cannot be computed', async () => {
    const errors: unknown[] = [];
    const live = createLiveState({
      store: { changedSince: async () => [] },
      compute: async () => {
        throw new Error('store down');
      },
      pollMs: 0,
      onError: (error) => errors.push(error),
    });
    const feed = live.watch(viewer);
    await expect(feed.next()).rejects.toThrow('store down');
    expect(errors).toHaveLength(1);
    expect(live.watched).toBe(0);
  });
});
