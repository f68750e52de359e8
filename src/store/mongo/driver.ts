/**
 * The `mongodb` driver's plumbing, once for every MongoDB store (events, analytics, event_errors, webhooks,
 * revocations): wrapping driver errors in `StoreError` without the URL or its password, reading partial bulk
 * failures, telling duplicate keys apart, and creating indexes idempotently in the way FerretDB v1 tolerates.
 */
import {
  MongoBulkWriteError,
  MongoServerError,
  type Collection,
  type Document,
  type IndexDescription,
  type WriteConcernError,
  type WriteError,
} from 'mongodb';
import { StoreError } from '../../errors.js';

const DUPLICATE_KEY = 11000;
const NAMESPACE_NOT_FOUND = 26;

/** Where the stores send warnings (a pino logger fits). */
export interface WarnLogger {
  warn(obj: object, msg?: string): void;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Turns what the driver throws into `StoreError`s named after one store. Its methods work detached (`const guard = errors.run`). */
export interface ErrorGuard {
  /** `cause` as a StoreError saying which operation failed; a StoreError is returned as it is. */
  wrap(what: string, cause: unknown): StoreError;
  /** Runs `fn`; whatever it throws is rethrown through `wrap`. */
  run<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** The same guard for a part of the store: its operations are named `${part}: ${what}`. */
  scoped(part: string): ErrorGuard;
}

/**
 * An error guard for the store called `label` (`MongoDB event log`). Messages read
 * `${label}: ${what} failed (${error class} ${server code})`, followed by the driver's message only when the
 * connection string is known: that message has the URL replaced by `<url>`, the URL's password (as written and
 * decoded) by `***`, and the credentials of any other `mongodb://` URL by `***`. Without `url` the driver's
 * message is left out, since nothing could tell which of its words are a password.
 */
export function createErrorGuard(label: string, url?: string): ErrorGuard {
  const wrap = (what: string, cause: unknown): StoreError => {
    if (cause instanceof StoreError) return cause;
    const name = cause instanceof Error ? cause.name : 'Error';
    const code = cause instanceof MongoServerError ? ` ${String(cause.code ?? cause.codeName ?? '')}`.trimEnd() : '';
    const detail = url !== undefined && cause instanceof Error ? `: ${redact(cause.message, url)}` : '';
    return new StoreError(`${label}: ${what} failed (${name}${code})${detail}`, { cause });
  };
  return {
    wrap,
    async run(what, fn) {
      try {
        return await fn();
      } catch (cause) {
        throw wrap(what, cause);
      }
    },
    scoped: (part) => createErrorGuard(`${label}: ${part}`, url),
  };
}

/** `message` without `url`, its password, or the credentials of any `mongodb://` URL it quotes. */
function redact(message: string, url: string): string {
  let out = message.split(url).join('<url>');
  const password = /^mongodb(?:\+srv)?:\/\/[^:@/]*:([^@/]+)@/.exec(url)?.[1];
  // Very short passwords are not replaced: that would mangle the message and reveal little anyway.
  for (const secret of password ? new Set([password, safeDecode(password)]) : []) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  return out.replace(/mongodb(\+srv)?:\/\/[^\s@/]+@/g, 'mongodb$1://***@');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The database named in the URL path, if any (`mongodb://host/db?x=y` -> `db`). */
export function dbNameFromUrl(url: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]+)/.exec(url);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Write errors

/**
 * Whether a write was refused by a unique index (E11000): a thrown `MongoServerError` (`insertOne`, `updateOne`),
 * or one entry of a bulk failure's `writeErrors`. For a bulk failure as a whole, ask its entries (see `partialWrite`).
 */
export function isDuplicateKey(error: unknown): boolean {
  if (error instanceof MongoServerError) return error.code === DUPLICATE_KEY;
  // A WriteError is a plain object of the driver's (not an Error, and not exported as a value).
  return typeof error === 'object' && error !== null && !(error instanceof Error) && (error as Partial<WriteError>).code === DUPLICATE_KEY;
}

/** What a failed `insertMany` or `bulkWrite` still tells (see `partialWrite`). */
export interface PartialWrite {
  /**
   * The refused operations, each with its `index` in the call and its `code`; always an array (the driver gives
   * a lone error as itself). Empty when the failure was not per operation: a network or server error mid-write,
   * or a write-concern failure.
   */
  readonly writeErrors: readonly WriteError[];
  /** Set when the server also failed the write concern: then even the accepted operations are not known durable. */
  readonly writeConcernError: WriteConcernError | undefined;
  /** Documents inserted before (ordered) or besides (unordered) the refused ones. */
  readonly insertedCount: number;
}

/** The partial outcome of a failed `insertMany` / `bulkWrite`; `undefined` for an error of any other kind. */
export function partialWrite(error: unknown): PartialWrite | undefined {
  if (!(error instanceof MongoBulkWriteError)) return undefined;
  return {
    writeErrors: Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors],
    writeConcernError: error.err,
    insertedCount: error.result.insertedCount,
  };
}

// ---------------------------------------------------------------------------------------------
// Indexes

/** Whether two index key patterns are the same (same fields, same order, same directions). */
export const sameKey = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The collection's indexes; none when it does not exist yet. */
export async function listIndexesOf(collection: Collection<any>): Promise<Document[]> {
  try {
    return await collection.listIndexes().toArray();
  } catch (error) {
    if (error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND) return [];
    throw error;
  }
}

/** An index that was already there with the wanted key but not the wanted uniqueness. */
export interface IndexMismatch {
  /** The existing index's name. */
  readonly name: string;
  readonly expectedUnique: boolean;
}

/**
 * Creates the indexes whose key pattern is missing, one `createIndexes` command each: FerretDB 1.24 drops the
 * connection when one command names several indexes that already exist. An index whose key already exists is
 * left alone whatever its name or options (so a TTL set later survives restarts); those whose uniqueness differs
 * from `indexes` are returned, for the caller to warn about or refuse.
 * @returns `existing`, the indexes there were before (one `listIndexes`), and the `mismatches` among them.
 */
export async function ensureIndexes(
  collection: Collection<any>,
  indexes: readonly IndexDescription[],
): Promise<{ existing: Document[]; mismatches: IndexMismatch[] }> {
  const existing = await listIndexesOf(collection);
  const mismatches: IndexMismatch[] = [];
  for (const { key, ...options } of indexes) {
    const found = existing.find((index) => sameKey(index.key, key));
    if (!found) await collection.createIndex(key, options);
    else if (Boolean(found.unique) !== Boolean(options.unique)) {
      mismatches.push({ name: String(found.name), expectedUnique: Boolean(options.unique) });
    }
  }
  return { existing, mismatches };
}
