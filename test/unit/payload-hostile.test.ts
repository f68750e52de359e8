import { readFileSync } from 'node:fs';
import { buildSchema as buildSdl, getNamedType, isObjectType, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema, loadTypeDefs } from '../../src/graphql/schema.js';
import { createPayloadValidator, NON_NEGATIVE_DIRECTIVE } from '../../src/graphql/payload-validator.js';
import { examplePayload } from '../../src/events/examples.js';
import type { EventTypeName } from '../../src/events/catalogue.js';
import { ValidationError } from '../../src/errors.js';

const schema = buildSchema([]);
const validator = createPayloadValidator(schema);

/** The ValidationError `validate` throws (or fails the test when it accepts the payload). */
function refusal(type: EventTypeName, data: unknown): ValidationError {
  try {
    validator.validate(type, data);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`${type}: payload accepted`);
}

/** A payload as it arrives over HTTP: through JSON.parse, which makes `"__proto__"` an own key. */
const parsed = (json: string) => JSON.parse(json) as Record<string, unknown>;
const withRaw = (type: EventTypeName, extraJson: string) => parsed(`${JSON.stringify(examplePayload(type)).slice(0, -1)},${extraJson}}`);

/** `Type.field` of every field marked `@nonNegative`, read from the SDL. */
function markedFields(s: GraphQLSchema): string[] {
  return Object.values(s.getTypeMap())
    .filter(isObjectType)
    .flatMap((t) => Object.values(t.getFields()).filter((f) => f.astNode?.directives?.some((d) => d.name.value === NON_NEGATIVE_DIRECTIVE)).map((f) => `${t.name}.${f.name}`))
    .sort();
}

describe('payload validation: prototype keys', () => {
  it('refuses a JSON-parsed own __proto__ key at the top of data, naming data.__proto__', () => {
    const data = withRaw('inventory_alert', '"__proto__":{"isAdmin":true}');
    expect(Object.hasOwn(data, '__proto__')).toBe(true);
    const error = refusal('inventory_alert', data);
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.details).toEqual({ field: 'data.__proto__' });
    expect(error.message).toMatch(/^data\.__proto__: is a reserved key/);
  });

  it('refuses constructor and prototype keys that used to be dropped silently', () => {
    expect(refusal('payment_failed', withRaw('payment_failed', '"constructor":{"prototype":{"x":1}}')).details).toEqual({ field: 'data.constructor' });
    expect(refusal('payment_failed', withRaw('payment_failed', '"prototype":1')).details).toEqual({ field: 'data.prototype' });
    // Any other inherited name is an unknown field too, not a silent drop.
    expect(refusal('payment_failed', withRaw('payment_failed', '"toString":"x"')).details).toEqual({ field: 'data.toString' });
  });

  it('refuses them in nested objects and in lists of objects', () => {
    const order = examplePayload('order_created');
    const items = parsed(`[${JSON.stringify((order['items'] as unknown[])[0])},{"sku":"b","name":"B","quantity":1,"unitPrice":1,"__proto__":{}}]`);
    expect(refusal('order_created', { ...order, items }).details).toEqual({ field: 'data.items[1].__proto__' });
    const address = { ...(order['deliveryAddress'] as object), constructor: 'x' };
    expect(refusal('order_created', { ...order, deliveryAddress: address }).details).toEqual({ field: 'data.deliveryAddress.constructor' });
  });

  it('refuses them at any depth of a JSON field, and keeps look-alike keys', () => {
    const deep = withRaw('system_alert', '"details":{"hosts":[{"name":"a"},{"x":{"__proto__":{"polluted":true}}}]}');
    expect(refusal('system_alert', deep).details).toEqual({ field: 'data.details.hosts[1].x.__proto__' });
    expect(refusal('system_alert', { ...examplePayload('system_alert'), details: [{ prototype: 1 }] }).details).toEqual({ field: 'data.details[0].prototype' });
    const fine = withRaw('system_alert', '"details":{"proto":1,"__proto__x":2,"Constructor":3}');
    expect(validator.validate('system_alert', fine)['details']).toEqual({ proto: 1, __proto__x: 2, Constructor: 3 });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('payload validation: non-finite numbers', () => {
  it('says "must be a finite number, got Infinity" for Float and Int fields', () => {
    const amount = refusal('payment_failed', examplePayload('payment_failed', { amount: Number.POSITIVE_INFINITY }));
    expect(amount.message).toBe('data.amount: must be a finite number, got Infinity');
    expect(amount.details).toEqual({ field: 'data.amount' });
    expect(refusal('payment_failed', examplePayload('payment_failed', { amount: Number.NEGATIVE_INFINITY })).message).toBe('data.amount: must be a finite number, got -Infinity');
    expect(refusal('location_updated', examplePayload('location_updated', { latitude: Number.NaN })).message).toBe('data.latitude: must be a finite number, got NaN');
    expect(refusal('inventory_alert', examplePayload('inventory_alert', { quantityLeft: Number.POSITIVE_INFINITY })).message).toBe('data.quantityLeft: must be a finite number, got Infinity');
  });

  it('names non-finite values in other fields instead of printing them as null', () => {
    const id = refusal('payment_failed', examplePayload('payment_failed', { orderId: Number.POSITIVE_INFINITY }));
    expect(id.message).toBe('data.orderId: expected an ID string, got number Infinity');
    expect(refusal('payment_failed', examplePayload('payment_failed', { currency: Number.NaN })).message).toMatch(/got number NaN$/);
  });

  it('refuses non-finite numbers inside a JSON field, which JSON would store as null', () => {
    const error = refusal('system_alert', { ...examplePayload('system_alert'), details: { latencyMs: [12, Number.POSITIVE_INFINITY] } });
    expect(error.message).toBe('data.details.latencyMs[1]: must be a finite number, got Infinity');
  });
});

describe('payload validation: non-negative fields', () => {
  it('refuses negative stock counts of inventory_alert, naming the field', () => {
    for (const field of ['quantityLeft', 'threshold', 'suggestedReorderQuantity']) {
      const error = refusal('inventory_alert', examplePayload('inventory_alert', { [field]: -3 }));
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.details).toEqual({ field: `data.${field}` });
      expect(error.message).toBe(`data.${field}: must not be negative, got -3`);
    }
    expect(validator.validate('inventory_alert', examplePayload('inventory_alert', { quantityLeft: 0, alertKind: 'OUT_OF_STOCK' }))['quantityLeft']).toBe(0);
  });

  it('refuses negative counts, distances and durations elsewhere, nested ones included', () => {
    const items = [{ sku: 'a', name: 'A', quantity: 1, unitPrice: 1 }, { sku: 'b', name: 'B', quantity: -2, unitPrice: 1 }];
    expect(refusal('order_created', examplePayload('order_created', { items })).details).toEqual({ field: 'data.items[1].quantity' });
    expect(refusal('order_ready', examplePayload('order_ready', { packageCount: -1 })).details).toEqual({ field: 'data.packageCount' });
    expect(refusal('delivery_completed', examplePayload('delivery_completed', { durationSeconds: -60 })).details).toEqual({ field: 'data.durationSeconds' });
    expect(refusal('payment_failed', examplePayload('payment_failed', { attempt: -1 })).details).toEqual({ field: 'data.attempt' });
    expect(refusal('location_updated', examplePayload('location_updated', { speedKmh: -0.5 })).message).toBe('data.speedKmh: must not be negative, got -0.5');
  });

  it('keeps signed values signed: deductions, wallet deltas and southern latitudes are accepted', () => {
    const earning = examplePayload('earning_recorded');
    const breakdown = { ...(earning['breakdown'] as object), adjustment: -1.5 };
    expect(() => validator.validate('earning_recorded', { ...earning, breakdown })).not.toThrow();
    expect(validator.validate('wallet_updated', examplePayload('wallet_updated', { delta: -12.5 }))['delta']).toBe(-12.5);
    expect(validator.validate('location_updated', examplePayload('location_updated', { latitude: -33.9 }))['latitude']).toBe(-33.9);
  });

  it('reads the non-negative fields from @nonNegative in the SDL', () => {
    expect(markedFields(schema)).toEqual([
      'DeliveryArrivedEvent.waitLimitSeconds',
      'DeliveryCompletedEvent.distanceMeters',
      'DeliveryCompletedEvent.durationSeconds',
      'DeliveryInTransitEvent.distanceMeters',
      'DeliveryPickedUpEvent.packageCount',
      'EarningRecordedEvent.distanceMeters',
      'EtaUpdatedEvent.distanceMeters',
      'InventoryAlertEvent.quantityLeft',
      'InventoryAlertEvent.suggestedReorderQuantity',
      'InventoryAlertEvent.threshold',
      'LocationUpdatedEvent.accuracyMeters',
      'LocationUpdatedEvent.speedKmh',
      'OrderConfirmedEvent.preparationMinutes',
      'OrderItem.quantity',
      'OrderReadyEvent.packageCount',
      'PaymentFailedEvent.attempt',
    ]);
    for (const coordinate of markedFields(schema)) {
      const [type, field] = coordinate.split('.') as [string, string];
      const object = schema.getType(type);
      if (!isObjectType(object)) throw new Error(`${type} is not an object type`);
      const named = getNamedType(object.getFields()[field]!.type).name;
      expect(['Int', 'Float'], coordinate).toContain(named);
    }
  });

  it('lists every non-negative field in docs/events.md', () => {
    const docs = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
    for (const coordinate of markedFields(schema)) expect(docs, coordinate).toContain(`\`${coordinate.split('.')[1]}\``);
  });

  it('fails at start-up when @nonNegative marks a non-numeric field or is not defined', () => {
    const sdl = loadTypeDefs().join('\n');
    const onString = buildSdl(sdl.replace('  sku: String!\n', '  sku: String! @nonNegative\n'));
    expect(() => createPayloadValidator(onString)).toThrow(/@nonNegative on (OrderItem|InventoryAlertEvent)\.sku: only Int and Float/);
    const undefinedDirective = buildSdl(sdl.replace(/"""[^"]*"""\s*directive @nonNegative on FIELD_DEFINITION/, '').replace(/ @nonNegative/g, ''));
    expect(() => createPayloadValidator(undefinedDirective)).toThrow(/does not define @nonNegative/);
  });
});
