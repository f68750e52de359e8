/**
 * Validates an event's `data` against its GraphQL object type, so the SDL is the only definition
 * of payloads: non-null fields are required, nullable ones optional, unknown fields refused,
 * scalars and enums checked, nested objects and lists walked. Errors name the field path.
 */
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { CATALOGUE, getSpec, type EventTypeName } from '../events/catalogue.js';
import type { PayloadValidator } from '../events/payload-validator.js';
import { ValidationError } from '../errors.js';

/** Fields every event has; never part of a payload. */
export const EVENT_FIELDS: ReadonlySet<string> = new Set(['id', 'type', 'level', 'userId', 'roles', 'source', 'timestamp', 'cursor']);

const MAX_DEPTH = 8;

const fail = (path: string, message: string): never => {
  throw new ValidationError(`${path}: ${message}`, { details: { field: path } });
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function checkScalar(name: string, value: unknown, path: string): unknown {
  switch (name) {
    case 'String':
    case 'ID':
      if (typeof value === 'string') return value;
      if (name === 'ID' && typeof value === 'number' && Number.isInteger(value)) return String(value);
      return fail(path, `expected ${name === 'ID' ? 'an ID string' : 'a string'}, got ${describe(value)}`);
    case 'Int':
      if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 31 - 1) return value;
      return fail(path, `expected an integer, got ${describe(value)}`);
    case 'Float':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      return fail(path, `expected a number, got ${describe(value)}`);
    case 'Boolean':
      if (typeof value === 'boolean') return value;
      return fail(path, `expected true or false, got ${describe(value)}`);
    case 'DateTime': {
      const ms = typeof value === 'string' ? Date.parse(value) : NaN;
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(ms)) return new Date(ms).toISOString();
      return fail(path, `expected an ISO-8601 date-time string, got ${describe(value)}`);
    }
    default:
      return value; // JSON
  }
}

function checkValue(type: GraphQLOutputType, value: unknown, path: string, depth: number): unknown {
  if (value === null || value === undefined) {
    if (isNonNullType(type)) fail(path, 'is required');
    return null;
  }
  const inner = getNullableType(type);
  if (isListType(inner)) {
    if (!Array.isArray(value)) fail(path, `expected a list, got ${describe(value)}`);
    return (value as unknown[]).map((item, i) => checkValue(inner.ofType, item, `${path}[${i}]`, depth));
  }
  if (isScalarType(inner)) return checkScalar(inner.name, value, path);
  if (isEnumType(inner)) {
    if (typeof value === 'string' && inner.getValue(value)) return value;
    return fail(path, `expected one of ${inner.getValues().map((v) => v.name).join(', ')}, got ${describe(value)}`);
  }
  if (isObjectType(inner)) return checkObject(inner.getFields(), value, path, depth + 1);
  return fail(path, `unsupported payload type ${String(getNamedType(inner))}`);
}

function checkObject(fields: Record<string, GraphQLField<unknown, unknown>>, value: unknown, path: string, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) fail(path, 'is nested too deeply');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, `expected an object, got ${describe(value)}`);
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(key in fields)) fail(`${path}.${key}`, `is not a field of this payload (fields: ${Object.keys(fields).join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(fields)) {
    const v = checkValue(field.type, input[name], `${path}.${name}`, depth);
    if (v !== null) out[name] = v;
  }
  return out;
}

export function createPayloadValidator(schema: GraphQLSchema): PayloadValidator {
  const payloadFields = new Map<EventTypeName, Record<string, GraphQLField<unknown, unknown>>>();
  for (const spec of CATALOGUE) {
    const type = schema.getType(spec.graphqlType) as GraphQLObjectType | undefined;
    if (!type || !isObjectType(type)) throw new Error(`Schema has no object type ${spec.graphqlType} for ${spec.type}`);
    const fields = Object.fromEntries(Object.entries(type.getFields()).filter(([name]) => !EVENT_FIELDS.has(name)));
    payloadFields.set(spec.type, fields);
  }
  return {
    validate(type, data) {
      const fields = payloadFields.get(type);
      if (!fields) throw new ValidationError(`type: unknown event type ${JSON.stringify(type)}`, { details: { field: 'type' } });
      const out = checkObject(fields, data, 'data', 0);
      if (JSON.stringify(out).length > 64 * 1024) fail('data', `payload of ${getSpec(type).type} exceeds 64 KiB`);
      return out;
    },
  };
}
