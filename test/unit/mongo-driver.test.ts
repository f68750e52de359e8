/** The MongoDB driver helpers (src/store/mongo/driver.ts), on driver error objects and a fake collection: no database. */
import { MongoBulkWriteError, MongoNetworkError, MongoServerError, type Collection, type Document, type IndexDescription } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { createErrorGuard, dbNameFromUrl, ensureIndexes, isDuplicateKey, partialWrite } from '../../src/store/mongo/driver.js';

const duplicate = (index: number) => ({ code: 11000, index, errmsg: `E11000 duplicate key error (op ${index})` });

/** A failed insertMany as the driver reports it: per-document errors, or (`cause`) a failure mid-write. */
function bulkError(writeErrors: object[], insertedCount: number): MongoBulkWriteError;
function bulkError(cause: Error, insertedCount: number): MongoBulkWriteError;
function bulkError(failure: object[] | Error, insertedCount: number): MongoBulkWriteError {
  const result = { insertedCount } as never;
  if (failure instanceof Error) return new MongoBulkWriteError(failure, result);
  const first = failure[0] as { code?: number; errmsg?: string } | undefined;
  return new MongoBulkWriteError({ message: first?.errmsg ?? 'write failed', code: first?.code ?? 0, writeErrors: failure as never }, result);
}

describe('createErrorGuard', () => {
  const url = 'mongodb://user:p%40ss@db1.internal:27017/herald?replicaSet=rs0';

  it('names the store, the operation, the error class and the server code', () => {
    const error = createErrorGuard('MongoDB event log', url).wrap('list', new MongoServerError({ message: 'boom', code: 2 }));
    expect(error).toBeInstanceOf(StoreError);
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toBe('MongoDB event log: list failed (MongoServerError 2): boom');
    expect(error.cause).toBeInstanceOf(MongoServerError);
  });

  it('replaces the URL and its password, encoded and decoded, in the driver message', () => {
    const guard = createErrorGuard('MongoDB event log', url);
    const message = guard.wrap('connect', new Error(`cannot reach ${url}; auth with p@ss and p%40ss refused`)).message;
    expect(message).toBe('MongoDB event log: connect failed (Error): cannot reach <url>; auth with *** and *** refused');
  });

  it('hides the credentials of any other mongodb:// URL the message quotes', () => {
    const message = createErrorGuard('MongoDB event log', url).wrap('connect', new Error('seed mongodb+srv://other:hunter2@x.example/db failed')).message;
    expect(message).not.toContain('hunter2');
    expect(message).toContain('mongodb+srv://***@x.example/db');
  });

  it('leaves out the driver message when it does not know the URL', () => {
    const error = createErrorGuard('MongoDB webhook store').wrap('claim', new MongoNetworkError('connection to mongodb://u:secret1@h closed'));
    expect(error.message).toBe('MongoDB webhook store: claim failed (MongoNetworkError)');
  });

  it('passes a StoreError through and names parts of the store when scoped', async () => {
    const guard = createErrorGuard('MongoDB event log', url);
    const own = new StoreError('MongoDB event log: seq counter is behind the log');
    expect(guard.wrap('append', own)).toBe(own);
    const failed = guard.scoped('analytics').run('count', async () => {
      throw new MongoServerError({ message: 'no', codeName: 'NotWritablePrimary' });
    });
    await expect(failed).rejects.toThrow('MongoDB event log: analytics: count failed (MongoServerError NotWritablePrimary): no');
    await expect(guard.run('get', async () => 7)).resolves.toBe(7);
  });
});

describe('isDuplicateKey', () => {
  it('recognises a single write refused by a unique index', () => {
    expect(isDuplicateKey(new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 }))).toBe(true);
    expect(isDuplicateKey(new MongoServerError({ message: 'Document failed validation', code: 121 }))).toBe(false);
  });

  it('recognises each refused document of a bulk failure', () => {
    const failure = partialWrite(bulkError([duplicate(1), { code: 121, index: 3, errmsg: 'invalid' }], 2))!;
    expect(failure.writeErrors.map(isDuplicateKey)).toEqual([true, false]);
  });

  it('does not take errors of other origins for duplicate keys', () => {
    expect(isDuplicateKey(Object.assign(new Error('E11000'), { code: 11000 }))).toBe(false);
    expect(isDuplicateKey(null)).toBe(false);
    expect(isDuplicateKey('E11000')).toBe(false);
  });
});

describe('partialWrite', () => {
  it('lists the refused documents of an insertMany, with how many went in', () => {
    const failure = partialWrite(bulkError([duplicate(2), duplicate(5)], 4));
    expect(failure?.writeErrors.map((e) => e.index)).toEqual([2, 5]);
    expect(failure?.insertedCount).toBe(4);
    expect(failure?.writeConcernError).toBeUndefined();
  });

  it('has no refused documents when the write failed as a whole part-way', () => {
    const failure = partialWrite(bulkError(new MongoNetworkError('connection reset'), 3));
    expect(failure?.writeErrors).toEqual([]);
    expect(failure?.insertedCount).toBe(3);
  });

  it('is undefined for errors other than bulk failures', () => {
    expect(partialWrite(new MongoServerError({ message: 'E11000', code: 11000 }))).toBeUndefined();
    expect(partialWrite(new Error('x'))).toBeUndefined();
  });
});

describe('dbNameFromUrl', () => {
  it.each([
    ['mongodb://host/herald?replicaSet=rs0', 'herald'],
    ['mongodb+srv://u:p%40ss@cluster.example/my%2Ddb', 'my-db'],
    ['mongodb://a:27017,b:27017/', undefined],
    ['mongodb://host', undefined],
    ['mongodb://host?x=y', undefined],
  ])('reads %s as %s', (url, name) => {
    expect(dbNameFromUrl(url)).toBe(name);
  });
});

describe('ensureIndexes', () => {
  function fakeCollection(existing: Document[] | 'missing') {
    const created: [Document, Document][] = [];
    const collection = {
      listIndexes: () => ({
        toArray: async () => {
          if (existing === 'missing') throw new MongoServerError({ message: 'ns does not exist', code: 26 });
          return existing;
        },
      }),
      createIndex: async (key: Document, options: Document) => void created.push([key, options]),
    };
    return { collection: collection as unknown as Collection<any>, created };
  }
  const INDEXES: IndexDescription[] = [
    { key: { seq: 1 }, name: 'seq_1', unique: true },
    { key: { userId: 1, seq: 1 }, name: 'userId_1_seq_1' },
  ];

  it('creates every index, one command each, on a collection that does not exist yet', async () => {
    const { collection, created } = fakeCollection('missing');
    expect(await ensureIndexes(collection, INDEXES)).toEqual({ existing: [], mismatches: [] });
    expect(created).toEqual([
      [{ seq: 1 }, { name: 'seq_1', unique: true }],
      [{ userId: 1, seq: 1 }, { name: 'userId_1_seq_1' }],
    ]);
  });

  it('leaves an index with the same key alone whatever its name, and reports a different uniqueness', async () => {
    const existing = [
      { key: { _id: 1 }, name: '_id_' },
      { key: { seq: 1 }, name: 'legacy_seq' },
    ];
    const { collection, created } = fakeCollection(existing);
    expect(await ensureIndexes(collection, INDEXES)).toEqual({ existing, mismatches: [{ name: 'legacy_seq', expectedUnique: true }] });
    expect(created).toEqual([[{ userId: 1, seq: 1 }, { name: 'userId_1_seq_1' }]]);
  });

  it('does not take a key with its fields in another order for the same key', async () => {
    const { collection, created } = fakeCollection([{ key: { seq: 1, userId: 1 }, name: 'seq_1_userId_1' }]);
    await ensureIndexes(collection, INDEXES);
    expect(created.map(([key]) => key)).toEqual([{ seq: 1 }, { userId: 1, seq: 1 }]);
  });
});
