import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../../src/webhooks/batcher.js';

describe('createBatcher', () => {
  it('writes items pushed in the same tick together, and later ones in the next write', async () => {
    const writes: number[][] = [];
    const batcher = createBatcher<number>(async (items) => {
      writes.push([...items]);
    });
    await Promise.all([batcher.push(1), batcher.push(2), batcher.push(3)]);
    await batcher.push(4);
    expect(writes).toEqual([[1, 2, 3], [4]]);
  });

  it('splits batches at maxBatch and rejects only the items of a failed write', async () => {
    let call = 0;
    const batcher = createBatcher<number>(async () => {
      if (++call === 1) throw new Error('disk full');
    }, 2);
    const results = await Promise.allSettled([batcher.push(1), batcher.push(2), batcher.push(3)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    await batcher.drain();
  });
});
