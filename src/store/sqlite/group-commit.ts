/**
 * Group commit for a synchronous writer: calls that arrive within one event-loop turn are
 * written together (one transaction, one fsync) and each caller gets its own results back.
 * A lone call waits only until the end of the current turn (setImmediate), not a timer.
 */
export function createGroupCommit<I, O>(
  write: (items: readonly I[]) => O[],
  /** Upper bound on items per write. @default 1000 */
  maxBatch = 1000,
): (items: readonly I[]) => Promise<O[]> {
  let pending: Array<{ items: readonly I[]; resolve: (out: O[]) => void; reject: (e: unknown) => void }> = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    const waiting = pending;
    pending = [];
    let i = 0;
    while (i < waiting.length) {
      // Take whole calls until maxBatch; a call larger than maxBatch is written alone.
      const group = [waiting[i]!];
      let size = waiting[i]!.items.length;
      i++;
      while (i < waiting.length && size + waiting[i]!.items.length <= maxBatch) {
        size += waiting[i]!.items.length;
        group.push(waiting[i]!);
        i++;
      }
      try {
        const out = write(group.flatMap((g) => g.items));
        let offset = 0;
        for (const g of group) {
          g.resolve(out.slice(offset, offset + g.items.length));
          offset += g.items.length;
        }
      } catch (error) {
        for (const g of group) g.reject(error);
      }
    }
  };

  return (items) =>
    new Promise<O[]>((resolve, reject) => {
      pending.push({ items, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
