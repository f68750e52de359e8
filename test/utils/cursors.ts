/**
 * Reads a Herald cursor's parts, for tests that check order or the log a cursor names. Clients treat cursors as
 * opaque; the format (`<epoch>-<seq>`) is src/events/cursor.ts's, and a change there should fail here first.
 */
export function cursorParts(cursor: string): { epoch: string; seq: number } {
  const match = /^([0-9a-hjkmnp-tv-z]{8})-(\d+)$/.exec(cursor);
  if (!match) throw new Error(`not a Herald cursor: ${JSON.stringify(cursor)}`);
  return { epoch: match[1]!, seq: Number(match[2]) };
}
