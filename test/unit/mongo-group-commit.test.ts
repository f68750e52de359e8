/** The MongoDB event log's group commit (src/store/mongo/group-commit.ts) over a fake writer: no database. */
import { describe, expect, it } from 'vitest';
import { createGroupCommit, type Outcome } from '../../src/store/mongo/group-commit.js';
import { deferred, waitFor, type Deferred } from '../utils/deferred.js';

interface Result {
  readonly item: string;
}

/** A writer that holds each write until released, recording the batches it was given. */
function heldWriter(fails: (item: string) => boolean = () => false) {
  const batches: string[][] = [];
  const held: Deferred<void>[] = [];
  const write = async (items: readonly string[]): Promise<Outcome<Result>[]> => {
    batches.push([...items]);
    const gate = deferred();
    held.push(gate);
    await gate.promise;
    return items.map((item) => (fails(item) ? { error: new Error(`refused ${item}`) } : { item }));
  };
  /** Lets the oldest held write finish, once it has started. */
  const release = async () => {
    await waitFor(() => held.length > 0, 1000, 'a write');
    held.shift()!.resolve();
  };
  return { write, batches, release };
}

describe('createGroupCommit', () => {
  it('writes a lone call at once and gives it its results', async () => {
    const writer = heldWriter();
    const queue = createGroupCommit(writer.write, 10);
    const call = queue.push(['a', 'b']);
    await writer.release();
    expect(await call).toEqual([{ item: 'a' }, { item: 'b' }]);
    expect(writer.batches).toEqual([['a', 'b']]);
  });

  it('writes the calls that arrive while a batch is in flight together in the next batch, in order', async () => {
    const writer = heldWriter();
    const queue = createGroupCommit(writer.write, 10);
    const first = queue.push(['a']);
    await waitFor(() => writer.batches.length === 1, 1000, 'the first write');
    const second = queue.push(['b']);
    const third = queue.push(['c', 'd']);
    await writer.release();
    await writer.release();
    expect(await Promise.all([first, second, third])).toEqual([[{ item: 'a' }], [{ item: 'b' }], [{ item: 'c' }, { item: 'd' }]]);
    expect(writer.batches).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('takes whole calls up to maxBatch items, and writes a larger call alone in chunks', async () => {
    const writer = heldWriter();
    const queue = createGroupCommit(writer.write, 3);
    const calls = [queue.push(['a'])];
    await waitFor(() => writer.batches.length === 1, 1000, 'the first write');
    calls.push(queue.push(['b', 'c']), queue.push(['d', 'e']), queue.push(['f', 'g', 'h', 'i']));
    const done = Promise.all(calls);
    for (let i = 0; i < 5; i++) await writer.release();
    await done;
    expect(writer.batches).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f', 'g', 'h'], ['i']]);
  });

  it('rejects only the call whose item failed', async () => {
    const writer = heldWriter((item) => item === 'c');
    const queue = createGroupCommit(writer.write, 10);
    const first = queue.push(['a']);
    await waitFor(() => writer.batches.length === 1, 1000, 'the first write');
    const good = queue.push(['b']);
    const bad = queue.push(['c', 'd']);
    await writer.release();
    await writer.release();
    await expect(bad).rejects.toThrow('refused c');
    expect(await Promise.all([first, good])).toEqual([[{ item: 'a' }], [{ item: 'b' }]]);
  });

  it('rejects every call of a batch whose write threw, then goes on with the next batch', async () => {
    let writes = 0;
    const queue = createGroupCommit<string, Result>(async (items) => {
      if (writes++ === 0) throw new Error('connection lost');
      return items.map((item) => ({ item }));
    }, 10);
    const lost = [queue.push(['a']), queue.push(['b'])];
    await expect(lost[0]).rejects.toThrow('connection lost');
    await expect(lost[1]).rejects.toThrow('connection lost');
    expect(await queue.push(['c'])).toEqual([{ item: 'c' }]);
  });

  it('drains: resolves once every queued call has been written', async () => {
    const writer = heldWriter();
    const queue = createGroupCommit(writer.write, 10);
    const call = queue.push(['a']);
    let drained = false;
    const drain = queue.drain().then(() => (drained = true));
    await waitFor(() => writer.batches.length === 1, 1000, 'the write');
    expect(drained).toBe(false);
    await writer.release();
    await drain;
    expect(await call).toEqual([{ item: 'a' }]);
  });
});
