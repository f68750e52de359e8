import { randomFillSync } from 'node:crypto';
import type { EventId } from './model.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// One getrandom call per 409 ids instead of one per id: at ingest rates the per-call cost dominated.
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

function random10(): Buffer {
  if (poolOffset + 10 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  poolOffset += 10;
  return POOL.subarray(poolOffset - 10, poolOffset);
}

/** `evt_` + a ULID: 48-bit ms timestamp + 80 random bits, Crockford base32, sortable by time. */
export function newEventId(now = Date.now()): EventId {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = random10();
  let rand = '';
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      rand += CROCKFORD[(acc >> bits) & 31];
    }
  }
  return `evt_${time}${rand}` as EventId;
}
