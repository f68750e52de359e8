import { describe, expect, it } from 'vitest';
import { createPushIterator } from '../../src/events/push-iterator.js';

describe('push iterator', () => {
  it('hands values to a waiting consumer and queues the rest in order', async () => {
    const it = createPushIterator<number>({ limit: 10, onOverflow: () => new Error('overflow') });
    const first = it.next();
    it.push(1);
    it.push(2);
    it.push(3);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await it.next()).toEqual({ value: 2, done: false });
    expect(await it.next()).toEqual({ value: 3, done: false });
  });

  it('fails the consumer when more than the limit is queued', async () => {
    const it = createPushIterator<number>({ limit: 2, onOverflow: () => new Error('too slow') });
    it.push(1);
    it.push(2);
    it.push(3);
    expect(await it.next()).toEqual({ value: 1, done: false });
    expect(await it.next()).toEqual({ value: 2, done: false });
    await expect(it.next()).rejects.toThrow('too slow');
  });

  it('resolves a pending pull with done when returned, and calls onReturn once', async () => {
    let returned = 0;
    const it = createPushIterator<number>({ limit: 2, onOverflow: () => new Error(), onReturn: () => returned++ });
    const pending = it.next();
    await it.return!();
    await it.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);
    it.push(5);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });
});
