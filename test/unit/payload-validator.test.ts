import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/graphql/schema.js';
import { createPayloadValidator } from '../../src/graphql/payload-validator.js';
import { examplePayload } from '../../src/events/examples.js';
import { EVENT_TYPES } from '../../src/events/catalogue.js';
import { ValidationError } from '../../src/errors.js';

const validator = createPayloadValidator(buildSchema([]));
const fieldOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.details?.['field'];
    throw error;
  }
  return undefined;
};

describe('payload validation against the SDL', () => {
  it('accepts the example payload of every type in the catalogue', () => {
    for (const type of EVENT_TYPES) expect(() => validator.validate(type, examplePayload(type))).not.toThrow();
  });

  it('normalizes DateTime values to ISO-8601 UTC with milliseconds', () => {
    const out = validator.validate('eta_updated', examplePayload('eta_updated', { etaAt: '2026-11-25T19:00:00+01:00' }));
    expect(out['etaAt']).toBe('2026-11-25T18:00:00.000Z');
  });

  it('drops explicit nulls of optional fields and requires non-null ones', () => {
    const out = validator.validate('location_updated', examplePayload('location_updated', { heading: null }));
    expect('heading' in out).toBe(false);
    expect(fieldOf(() => validator.validate('location_updated', examplePayload('location_updated', { latitude: null })))).toBe('data.latitude');
  });

  it('names the path of a bad element in a list of objects', () => {
    const items = [{ sku: 'a', name: 'A', quantity: 1, unitPrice: 1 }, { sku: 'b', name: 'B', quantity: 1.5, unitPrice: 1 }];
    expect(fieldOf(() => validator.validate('order_created', examplePayload('order_created', { items })))).toBe('data.items[1].quantity');
  });

  it('refuses non-objects, NaN-like numbers and unknown fields', () => {
    expect(fieldOf(() => validator.validate('order_created', 'hello'))).toBe('data');
    expect(fieldOf(() => validator.validate('order_created', [1]))).toBe('data');
    expect(fieldOf(() => validator.validate('payment_failed', examplePayload('payment_failed', { amount: Number.POSITIVE_INFINITY })))).toBe('data.amount');
    expect(fieldOf(() => validator.validate('payment_failed', examplePayload('payment_failed', { __proto__x: 1 })))).toBe('data.__proto__x');
  });
});
