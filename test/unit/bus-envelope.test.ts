import { describe, expect, it } from 'vitest';
import { createEnvelopeCodec, decodeEnvelope, EnvelopeError } from '../../src/bus/envelope.js';
import { committedEvent } from '../utils/events.js';

describe('the announcement envelope between instances', () => {
  const events = [committedEvent(1), committedEvent(2, { userId: null, roles: ['admin'], idempotencyKey: 'orders:1' })];

  it('carries committed events through JSON unchanged, with the sender', () => {
    const message = createEnvelopeCodec('herald-a', 'b00t').encode(events);
    expect(decodeEnvelope(message)).toEqual({ from: 'herald-a', boot: 'b00t', events });
  });

  it('recognises only its own messages by prefix: not another instance, not another process with the same id', () => {
    const own = createEnvelopeCodec('herald-a', 'boot1');
    expect(own.isOwn(own.encode(events))).toBe(true);
    expect(own.isOwn(createEnvelopeCodec('herald-b', 'boot1').encode(events))).toBe(false);
    expect(own.isOwn(createEnvelopeCodec('herald-a', 'boot2').encode(events))).toBe(false);
    // An id that extends ours is another instance, not us.
    expect(own.isOwn(createEnvelopeCodec('herald-a"x', 'boot1').encode(events))).toBe(false);
  });

  it('refuses what is not an announcement it can deliver', () => {
    const valid = JSON.parse(createEnvelopeCodec('a', 'b').encode(events));
    const cases: Array<[string, RegExp]> = [
      ['not json', /not JSON/],
      ['[]', /not an object/],
      [JSON.stringify({ ...valid, v: 2 }), /version 2/],
      [JSON.stringify({ ...valid, from: 7 }), /no sender/],
      [JSON.stringify({ ...valid, events: {} }), /no events/],
      [JSON.stringify({ ...valid, events: [{ ...events[0], seq: '1' }] }), /malformed event/],
      [JSON.stringify({ ...valid, events: [{ ...events[0], data: null }] }), /malformed event/],
    ];
    for (const [message, reason] of cases) {
      expect(() => decodeEnvelope(message)).toThrow(EnvelopeError);
      expect(() => decodeEnvelope(message)).toThrow(reason);
    }
  });
});
