/**
 * The wire form of one announcement between instances: one JSON message per `publish` call, serialized once,
 *
 *   {"v":1,"from":"<instance id>","boot":"<random per process>","events":[<HeraldEvent>, ...]}
 *
 * `from` + `boot` open the message, so an instance recognises its own echo by a prefix comparison without
 * parsing it. `boot` tells two processes that were (wrongly) given the same INSTANCE_ID apart: their events are
 * still delivered, and the clash is reported. `v` lets a later format be refused by older instances instead of
 * misread during a rolling upgrade.
 */
import type { HeraldEvent } from '../events/model.js';

export const ENVELOPE_VERSION = 1;

export interface Envelope {
  readonly from: string;
  readonly boot: string;
  readonly events: readonly HeraldEvent[];
}

export interface EnvelopeCodec {
  /** The message for these events, from this instance. */
  encode(events: readonly HeraldEvent[]): string;
  /** Whether the message is this process's own (published by `encode` of this codec). */
  isOwn(message: string): boolean;
}

export function createEnvelopeCodec(from: string, boot: string): EnvelopeCodec {
  const prefix = `{"v":${ENVELOPE_VERSION},"from":${JSON.stringify(from)},"boot":${JSON.stringify(boot)},"events":`;
  return {
    encode: (events) => `${prefix}${JSON.stringify(events)}}`,
    isOwn: (message) => message.startsWith(prefix),
  };
}

/** Why a message is not an announcement Herald can deliver. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

/**
 * Parses an announcement. Checks the shape the router relies on (ids, positions, type, audience), not every
 * payload field: the publisher validated those before committing.
 * @throws EnvelopeError for anything else (not JSON, another version, a malformed event)
 */
export function decodeEnvelope(message: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    throw new EnvelopeError('not JSON');
  }
  if (!isObject(value)) throw new EnvelopeError('not an object');
  if (value['v'] !== ENVELOPE_VERSION) throw new EnvelopeError(`version ${JSON.stringify(value['v'])}, expected ${ENVELOPE_VERSION}`);
  const { from, boot, events } = value;
  if (typeof from !== 'string' || typeof boot !== 'string') throw new EnvelopeError('no sender');
  if (!Array.isArray(events)) throw new EnvelopeError('no events');
  for (const event of events) {
    if (!isEvent(event)) throw new EnvelopeError('malformed event');
  }
  return { from, boot, events: events as HeraldEvent[] };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function isEvent(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value['id'] === 'string' &&
    typeof value['seq'] === 'number' &&
    Number.isSafeInteger(value['seq']) &&
    typeof value['type'] === 'string' &&
    typeof value['timestamp'] === 'number' &&
    (value['userId'] === null || typeof value['userId'] === 'string') &&
    Array.isArray(value['roles']) &&
    isObject(value['data'])
  );
}
