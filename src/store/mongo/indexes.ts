/** Idempotent index creation that FerretDB v1 tolerates. */
import { MongoServerError, type Collection, type Document, type IndexDescription } from 'mongodb';

const NAMESPACE_NOT_FOUND = 26;

/** The collection's indexes; none when it does not exist yet. */
export async function listIndexesOf(collection: Collection<any>): Promise<Document[]> {
  try {
    return await collection.listIndexes().toArray();
  } catch (error) {
    if (error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND) return [];
    throw error;
  }
}

/**
 * Creates the indexes whose key pattern is missing, one `createIndexes` command each: FerretDB 1.24 drops
 * the connection when one command names several indexes that already exist. Existing indexes with the same
 * key are left alone, whatever their name or options.
 */
export async function ensureIndexes(collection: Collection<any>, indexes: readonly IndexDescription[]): Promise<void> {
  const existing = await listIndexesOf(collection);
  const keyOf = (key: unknown) => JSON.stringify(key);
  const present = new Set(existing.map((index) => keyOf(index.key)));
  for (const { key, ...options } of indexes) {
    if (!present.has(keyOf(key))) await collection.createIndex(key, options);
  }
}
