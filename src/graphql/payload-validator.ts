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

/** A field path, built only when a check fails (building every path cost more than the checks). */
type Path = () => string;

function checkScalar(name: string, value: unknown, path: Path): unknown {
  switch (name) {
    case 'String':
    case 'ID':
      if (typeof value === 'string') return value;
      if (name === 'ID' && typeof value === 'number' && Number.isInteger(value)) return String(value);
      return fail(path(), `expected ${name === 'ID' ? 'an ID string' : 'a string'}, got ${describe(value)}`);
    case 'Int':
      if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 31 - 1) return value;
      return fail(path(), `expected an integer, got ${describe(value)}`);
    case 'Float':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      return fail(path(), `expected a number, got ${describe(value)}`);
    case 'Boolean':
      if (typeof value === 'boolean') return value;
      return fail(path(), `expected true or false, got ${describe(value)}`);
    case 'DateTime': {
      const ms = typeof value === 'string' ? Date.parse(value) : NaN;
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(ms)) return new Date(ms).toISOString();
      return fail(path(), `expected an ISO-8601 date-time string, got ${describe(value)}`);
    }
    default:
      return value; // JSON
  }
}

/** A compiled check: the normalized value, or a ValidationError naming `path()`. Null for absent optional values. */
type Check = (value: unknown, path: Path, depth: number) => unknown;

/**
 * Compiles the checks of a payload type once, at start-up: the walk then makes no type lookups and builds no
 * strings unless a value fails. Object checks are cached per type (and resolved lazily, so recursion is fine).
 */
function createCompiler() {
  const objects = new Map<GraphQLObjectType, Check>();

  const compileObject = (type: GraphQLObjectType, fields: Record<string, GraphQLField<unknown, unknown>> = type.getFields()): Check => {
    let entries: { name: string; check: Check }[] | undefined;
    return (value, path, depth) => {
      if (depth > MAX_DEPTH) fail(path(), 'is nested too deeply');
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path(), `expected an object, got ${describe(value)}`);
      entries ??= Object.entries(fields).map(([name, field]) => ({ name, check: compile(field.type) }));
      const input = value as Record<string, unknown>;
      for (const key in input) {
        if (Object.hasOwn(input, key) && !(key in fields)) fail(`${path()}.${key}`, `is not a field of this payload (fields: ${Object.keys(fields).join(', ')})`);
      }
      const out: Record<string, unknown> = {};
      for (const { name, check } of entries) {
        const v = check(input[name], () => `${path()}.${name}`, depth);
        if (v !== null) out[name] = v;
      }
      return out;
    };
  };

  const compile = (type: GraphQLOutputType): Check => {
    const required = isNonNullType(type);
    const inner = getNullableType(type);
    let check: Check;
    if (isListType(inner)) {
      const item = compile(inner.ofType);
      check = (value, path, depth) => {
        if (!Array.isArray(value)) fail(path(), `expected a list, got ${describe(value)}`);
        return (value as unknown[]).map((v, i) => item(v, () => `${path()}[${i}]`, depth));
      };
    } else if (isScalarType(inner)) {
      const name = inner.name;
      check = (value, path) => checkScalar(name, value, path);
    } else if (isEnumType(inner)) {
      const values = new Set(inner.getValues().map((v) => v.name));
      check = (value, path) =>
        typeof value === 'string' && values.has(value) ? value : fail(path(), `expected one of ${[...values].join(', ')}, got ${describe(value)}`);
    } else if (isObjectType(inner)) {
      let object = objects.get(inner);
      if (!object) objects.set(inner, (object = compileObject(inner)));
      const nested = object;
      check = (value, path, depth) => nested(value, path, depth + 1);
    } else {
      check = (_value, path) => fail(path(), `unsupported payload type ${String(getNamedType(inner))}`);
    }
    return (value, path, depth) => {
      if (value === null || value === undefined) {
        if (required) fail(path(), 'is required');
        return null;
      }
      return check(value, path, depth);
    };
  };

  return { compileObject };
}

const DATA_PATH: Path = () => 'data';
const MAX_PAYLOAD_JSON = 64 * 1024;

/**
 * An upper bound of `JSON.stringify(value).length` without building the string (a character escapes to at
 * most 6); Infinity where the bound is unknown (class instances, toJSON, undefined), so the caller measures.
 */
function jsonLengthBound(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
      return 2 + 6 * value.length;
    case 'number':
      return 25;
    case 'boolean':
      return 5;
    case 'object': {
      if (value === null) return 4;
      if (depth > 32) return Infinity;
      let n = 2;
      if (Array.isArray(value)) {
        for (const item of value) n += 1 + jsonLengthBound(item, depth + 1);
        return n;
      }
      const proto = Object.getPrototypeOf(value);
      if ((proto !== Object.prototype && proto !== null) || 'toJSON' in value) return Infinity;
      for (const key in value) n += 4 + 6 * key.length + jsonLengthBound((value as Record<string, unknown>)[key], depth + 1);
      return n;
    }
    default:
      return Infinity;
  }
}

/** Whether the payload's JSON is larger than the cap; serializes only payloads that might be. */
const tooLarge = (out: Record<string, unknown>) =>
  jsonLengthBound(out, 0) > MAX_PAYLOAD_JSON && JSON.stringify(out).length > MAX_PAYLOAD_JSON;

export function createPayloadValidator(schema: GraphQLSchema): PayloadValidator {
  const { compileObject } = createCompiler();
  const checks = new Map<EventTypeName, Check>();
  for (const spec of CATALOGUE) {
    const type = schema.getType(spec.graphqlType) as GraphQLObjectType | undefined;
    if (!type || !isObjectType(type)) throw new Error(`Schema has no object type ${spec.graphqlType} for ${spec.type}`);
    const fields = Object.fromEntries(Object.entries(type.getFields()).filter(([name]) => !EVENT_FIELDS.has(name)));
    checks.set(spec.type, compileObject(type, fields));
  }
  return {
    validate(type, data) {
      const check = checks.get(type);
      if (!check) throw new ValidationError(`type: unknown event type ${JSON.stringify(type)}`, { details: { field: 'type' } });
      const out = check(data, DATA_PATH, 0) as Record<string, unknown>;
      if (tooLarge(out)) fail('data', `payload of ${getSpec(type).type} exceeds 64 KiB`);
      return out;
    },
  };
}
