/** The state feed's iterator: keeps only the newest value, ends cleanly or with an error, and says when it is let go. */
import { describe, expect, it } from 'vitest';
import { createLatestIterator } from '../../../src/notifications/latest-iterator.js';

describe('createLatestIterator', () => {
  it('gives a waiting consumer the value at once and a slow one only the newest', async () => {
    const it = createLatestIterator<number>(() => {});
    const waiting = it.next();
    it.push(1);
    expect(await waiting).toEqual({ value: 1, done: false });
    it.push(2);
    it.push(3);
    expect(await it.next()).toEqual({ value: 3, done: false });
  });

  it('ends after the pending value, or with the error, and calls onReturn once', async () => {
    let returned = 0;
    const it = createLatestIterator<number>(() => returned++);
    it.push(7);
    it.end();
    it.end();
    expect(await it.next()).toEqual({ value: 7, done: false });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);

    const failing = createLatestIterator<number>(() => {});
    const waiting = failing.next();
    failing.end(new Error('store down'));
    await expect(waiting).rejects.toThrow('store down');
    expect(await failing.next()).toEqual({ value: undefined, done: true });
  });

  it('stops on return(), dropping what was pending', async () => {
    let returned = 0;
    const it = createLatestIterator<number>(() => returned++);
    it.push(1);
    await it.return!();
    it.push(2);
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);
  });
});
