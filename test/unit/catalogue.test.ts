import { readFileSync, readdirSync } from 'node:fs';
import {
  buildSchema,
  isEnumType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  parse,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  CATALOGUE,
  DOMAINS,
  EVENT_TYPES,
  LEVELS,
  ROLES,
  TRACKING_TYPES,
  getSpec,
  isEventType,
  levelAtLeast,
  roleMayReceive,
  typesReceivableBy,
} from '../../src/events/catalogue.js';
import { examplePayload, exampleFor } from '../../src/events/examples.js';

const schemaDir = new URL('../../schema/', import.meta.url);
const domainFiles = readdirSync(new URL('events/', schemaDir)).filter((f) => f.endsWith('.graphql'));
const read = (path: string): string => readFileSync(new URL(path, schemaDir), 'utf8');
const domainSdl = new Map(domainFiles.map((f) => [f.replace(/\.graphql$/, ''), read(`events/${f}`)]));
// schema/schema.graphql owns the root types; a stub Query lets the catalogue SDL build on its own.
const sdl = [read('event.graphql'), ...domainSdl.values(), 'type Query { _: Boolean }'].join('\n');
const schema = buildSchema(sdl);

const eventInterface = schema.getType('Event');
if (!isInterfaceType(eventInterface)) throw new Error('Event interface missing');
const interfaceFields = Object.keys(eventInterface.getFields());

function objectType(name: string): GraphQLObjectType {
  const type = schema.getType(name);
  if (!isObjectType(type)) throw new Error(`${name} is not an object type`);
  return type;
}

function payloadFields(name: string): GraphQLField<unknown, unknown>[] {
  return Object.values(objectType(name).getFields()).filter((f) => !interfaceFields.includes(f.name));
}

const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Problems with `value` as an output of `type`; [] when it is valid published data. */
function check(value: unknown, type: GraphQLOutputType, path: string): string[] {
  if (isNonNullType(type)) {
    return value === null || value === undefined ? [`${path} is required`] : check(value, type.ofType, path);
  }
  if (value === null || value === undefined) return [];
  if (isListType(type)) {
    if (!Array.isArray(value)) return [`${path} is not a list`];
    return value.flatMap((v, i) => check(v, type.ofType, `${path}[${i}]`));
  }
  if (isEnumType(type)) {
    return type.getValue(String(value)) ? [] : [`${path}: ${String(value)} is not a ${type.name}`];
  }
  if (isScalarType(type)) {
    const ok: Record<string, (v: unknown) => boolean> = {
      ID: (v) => typeof v === 'string' && v.length > 0,
      String: (v) => typeof v === 'string',
      Int: (v) => Number.isInteger(v),
      Float: (v) => typeof v === 'number' && Number.isFinite(v),
      Boolean: (v) => typeof v === 'boolean',
      DateTime: (v) => typeof v === 'string' && ISO_MS_UTC.test(v) && !Number.isNaN(Date.parse(v)),
      JSON: () => true,
    };
    return ok[type.name]?.(value) ? [] : [`${path}: ${JSON.stringify(value)} is not a ${type.name}`];
  }
  if (isObjectType(type)) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${path} is not an object`];
    const fields = type.getFields();
    const record = value as Record<string, unknown>;
    const unknown = Object.keys(record)
      .filter((k) => !(k in fields))
      .map((k) => `${path}.${k} is not a field of ${type.name}`);
    return [...unknown, ...Object.values(fields).flatMap((f) => check(record[f.name], f.type, `${path}.${f.name}`))];
  }
  return [`${path}: unsupported type ${String(type)}`];
}

describe('event catalogue', () => {
  it('has 26 types across 7 domains with unique names', () => {
    expect(CATALOGUE).toHaveLength(26);
    expect(new Set(EVENT_TYPES).size).toBe(26);
    expect(new Set(CATALOGUE.map((s) => s.graphqlType)).size).toBe(26);
    expect(new Set(CATALOGUE.map((s) => s.domain))).toEqual(new Set(DOMAINS));
  });

  it('derives the GraphQL type and enum value from the snake_case name', () => {
    for (const spec of CATALOGUE) {
      const pascal = spec.type.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
      expect(spec.graphqlType).toBe(`${pascal}Event`);
      expect(spec.enumValue).toBe(spec.type.toUpperCase());
    }
    expect(getSpec('order_created')).toMatchObject({ graphqlType: 'OrderCreatedEvent', enumValue: 'ORDER_CREATED' });
  });

  it('defines every type as an object implementing Event in its domain file', () => {
    for (const spec of CATALOGUE) {
      const type = objectType(spec.graphqlType);
      expect(type.getInterfaces().map((i) => i.name)).toEqual(['Event']);
      const defined = parse(domainSdl.get(spec.domain) ?? '').definitions.some(
        (d) => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === spec.graphqlType,
      );
      expect(defined, `${spec.graphqlType} in schema/events/${spec.domain}.graphql`).toBe(true);
    }
    expect([...domainSdl.keys()].sort()).toEqual([...DOMAINS].sort());
  });

  it('has no Event implementations outside the catalogue', () => {
    const implementations = schema.getPossibleTypes(eventInterface).map((t) => t.name).sort();
    expect(implementations).toEqual(CATALOGUE.map((s) => s.graphqlType).sort());
  });

  it('repeats the eight interface fields first, then documented payload fields that do not reuse their names', () => {
    expect(interfaceFields).toEqual(['id', 'type', 'level', 'userId', 'roles', 'source', 'timestamp', 'cursor']);
    for (const spec of CATALOGUE) {
      const type = objectType(spec.graphqlType);
      expect(Object.keys(type.getFields()).slice(0, 8), spec.graphqlType).toEqual(interfaceFields);
      expect(type.description, spec.graphqlType).toBeTruthy();
      const payload = payloadFields(spec.graphqlType);
      expect(payload.length, spec.graphqlType).toBeGreaterThan(0);
      for (const field of payload) expect(field.description, `${spec.graphqlType}.${field.name}`).toBeTruthy();
    }
  });

  it('has exactly the catalogue enum values in EventType, each documented', () => {
    const enumType = schema.getType('EventType');
    if (!isEnumType(enumType)) throw new Error('EventType enum missing');
    expect(enumType.getValues().map((v) => v.name)).toEqual(CATALOGUE.map((s) => s.enumValue));
    for (const value of enumType.getValues()) expect(value.description, value.name).toBeTruthy();
  });

  it('matches the Role and EventLevel enums', () => {
    const role = schema.getType('Role');
    const level = schema.getType('EventLevel');
    if (!isEnumType(role) || !isEnumType(level)) throw new Error('Role or EventLevel enum missing');
    expect(role.getValues().map((v) => v.name)).toEqual(ROLES.map((r) => r.toUpperCase()));
    expect(level.getValues().map((v) => v.name)).toEqual([...LEVELS]);
  });

  it('gives delivery types non-null ID deliveryId, orderId, customerId and deliveryPartnerId', () => {
    for (const spec of CATALOGUE.filter((s) => s.domain === 'delivery')) {
      const fields = objectType(spec.graphqlType).getFields();
      for (const name of ['deliveryId', 'orderId', 'customerId', 'deliveryPartnerId']) {
        expect(String(fields[name]?.type), `${spec.graphqlType}.${name}`).toBe('ID!');
      }
    }
  });

  it('gives location, ETA and inventory types their required fields', () => {
    const types = (name: string) =>
      Object.fromEntries(Object.values(objectType(name).getFields()).map((f) => [f.name, String(f.type)]));
    expect(types('LocationUpdatedEvent')).toMatchObject({
      deliveryPartnerId: 'ID!', deliveryId: 'ID', latitude: 'Float!', longitude: 'Float!',
      heading: 'Float', speedKmh: 'Float', accuracyMeters: 'Float',
    });
    expect(types('EtaUpdatedEvent')).toMatchObject({
      deliveryId: 'ID!', orderId: 'ID!', etaAt: 'DateTime!', etaSeconds: 'Int!',
    });
    expect(types('InventoryAlertEvent')).toMatchObject({
      supplierId: 'ID!', sku: 'String!', productName: 'String!', quantityLeft: 'Int!', threshold: 'Int!',
    });
  });

  it('has a valid example payload for every type', () => {
    for (const spec of CATALOGUE) {
      const data = examplePayload(spec.type);
      const fields = payloadFields(spec.graphqlType);
      const names = fields.map((f) => f.name);
      expect(Object.keys(data).filter((k) => !names.includes(k)), spec.type).toEqual([]);
      const required = fields.filter((f) => isNonNullType(f.type)).map((f) => f.name);
      expect(required.filter((k) => !(k in data)), spec.type).toEqual([]);
      expect(fields.flatMap((f) => check(data[f.name], f.type, `${spec.type}.${f.name}`))).toEqual([]);
      if ('currency' in data) expect(data.currency).toMatch(/^[A-Z]{3}$/);
    }
  });

  it('returns fresh, deterministic examples and applies overrides', () => {
    const a = examplePayload('order_created');
    (a.items as unknown[]).length = 0;
    expect(examplePayload('order_created')).toEqual(exampleFor('order_created').data);
    expect((examplePayload('order_created').items as unknown[]).length).toBe(2);
    expect(examplePayload('order_ready', { pickupCode: 'A1B2' }).pickupCode).toBe('A1B2');
    expect(exampleFor('payment_failed').level).toBe('CRITICAL');
  });

  it('sends system alerts to admins only and nothing to services by role', () => {
    expect(getSpec('system_alert').audience).toEqual([]);
    for (const role of ROLES.filter((r) => r !== 'admin')) expect(roleMayReceive(role, 'system_alert')).toBe(false);
    expect(typesReceivableBy('service')).toEqual([]);
    expect(typesReceivableBy('admin')).toEqual(EVENT_TYPES);
  });

  it('lets admins receive every type', () => {
    for (const type of EVENT_TYPES) expect(roleMayReceive('admin', type)).toBe(true);
  });

  it('limits each role to its audiences', () => {
    expect(roleMayReceive('customer', 'payout_completed')).toBe(false);
    expect(roleMayReceive('supplier', 'payout_completed')).toBe(true);
    expect(roleMayReceive('delivery_partner', 'inventory_alert')).toBe(false);
    expect(roleMayReceive('supplier', 'location_updated')).toBe(false);
    expect(roleMayReceive('delivery_partner', 'order_ready')).toBe(true);
    expect(typesReceivableBy('supplier')).toContain('inventory_alert');
    expect(typesReceivableBy('customer')).not.toContain('earning_recorded');
  });

  it('orders levels CRITICAL >= HIGH >= MEDIUM >= LOW', () => {
    expect(levelAtLeast('CRITICAL', 'HIGH')).toBe(true);
    expect(levelAtLeast('HIGH', 'HIGH')).toBe(true);
    expect(levelAtLeast('MEDIUM', 'HIGH')).toBe(false);
    expect(levelAtLeast('LOW', 'MEDIUM')).toBe(false);
    expect(levelAtLeast('LOW', 'LOW')).toBe(true);
    for (const [i, a] of LEVELS.entries()) {
      for (const [j, b] of LEVELS.entries()) expect(levelAtLeast(a, b)).toBe(i <= j);
    }
  });

  it('marks the delivery status, location and ETA types as tracking', () => {
    expect([...TRACKING_TYPES].sort()).toEqual(
      [
        ...CATALOGUE.filter((s) => s.domain === 'delivery').map((s) => s.type),
        'location_updated',
        'eta_updated',
      ].sort(),
    );
  });

  it('recognises catalogued names only', () => {
    expect(isEventType('order_created')).toBe(true);
    expect(isEventType('ORDER_CREATED')).toBe(false);
    expect(isEventType('toString')).toBe(false);
  });
});
