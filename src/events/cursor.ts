/**
 * Cursors: the opaque resume positions clients hold. A cursor names its log (the log's epoch, chosen once when
 * the log is created) and a position in it: `<epoch>-<seq>`, e.g. `k3v9x2mq-1042`. The epoch is what lets a hub
 * tell a cursor of its own log from one of another (a second SQLite instance, a log recreated after a reset, a
 * cursor of Herald before cursors named their log): without it, `"3"` from another log would replay this log's
 * unrelated events after 3. Clients never parse a cursor; only this module makes and reads them.
 */
import { randomBytes } from 'node:crypto';
import type { LogPosition } from './model.js';
import { CursorError, ValidationError } from '../errors.js';

/** An opaque resume position. */
export type Cursor = string;

const EPOCH_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const EPOCH_LENGTH = 8;
const CURSOR = /^([0-9a-hjkmnp-tv-z]{8})-(\d{1,15})$/;
/** What a cursor looked like before it carried an epoch. */
const LEGACY = /^\d{1,15}$/;

/** A fresh epoch for a new log: 8 Crockford base32 characters (40 random bits). */
export function newLogEpoch(): string {
  let epoch = '';
  for (const byte of randomBytes(EPOCH_LENGTH)) epoch += EPOCH_ALPHABET[byte & 31];
  return epoch;
}

/** Whether `value` can be an epoch (stores check what they read back). */
export const isLogEpoch = (value: unknown): value is string => typeof value === 'string' && /^[0-9a-hjkmnp-tv-z]{8}$/.test(value);

/** What a client-supplied cursor turned out to be. */
export type DecodedCursor =
  | { readonly kind: 'position'; readonly position: LogPosition }
  /** A well-formed cursor of another log (another epoch, or an epoch-less cursor of an older Herald). */
  | { readonly kind: 'foreign' }
  | { readonly kind: 'malformed' };

/** Makes and reads the cursors of one log. */
export interface CursorCodec {
  /** The log these cursors belong to. */
  readonly epoch: string;
  encode(seq: number): Cursor;
  decode(cursor: string): DecodedCursor;
  /**
   * A client's cursor as a position; undefined for none (null, empty). `argument` names where it came from in
   * errors, `then` says what the client should do about a cursor of another log.
   * @throws ValidationError (BAD_USER_INPUT) for a string that is no cursor; CursorError `CURSOR_UNKNOWN` for one of another log
   */
  read(cursor: string | null | undefined, argument: string, then: string): LogPosition | undefined;
}

export function createCursorCodec(epoch: string): CursorCodec {
  if (!isLogEpoch(epoch)) throw new RangeError(`not a log epoch: ${JSON.stringify(epoch)}`);
  const prefix = `${epoch}-`;
  return {
    epoch,
    encode: (seq) => prefix + seq,
    decode(cursor) {
      const match = CURSOR.exec(cursor);
      if (match) return match[1] === epoch ? { kind: 'position', position: Number(match[2]) as LogPosition } : { kind: 'foreign' };
      return LEGACY.test(cursor) ? { kind: 'foreign' } : { kind: 'malformed' };
    },
    read(cursor, argument, then) {
      if (cursor === null || cursor === undefined || cursor === '') return undefined;
      const decoded = this.decode(cursor);
      if (decoded.kind === 'position') return decoded.position;
      if (decoded.kind === 'malformed') throw new ValidationError(`${argument}: ${JSON.stringify(cursor.slice(0, 40))} is not a cursor from this hub`, { details: { field: argument } });
      throw new CursorError('CURSOR_UNKNOWN', `${argument}: this cursor comes from another event log (another Herald, a log since recreated, or a Herald before cursors named their log). ${then}`, { details: { field: argument } });
    },
  };
}
