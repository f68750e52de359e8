/**
 * Validates an event's `data` against its GraphQL object type, so the SDL is the only definition
 * of payloads: non-null fields are required, nullable ones optional, unknown fields refused,
 * scalars and enums checked, nested objects and lists walked. Errors name the field path.
 *
 * Hostile input is refused, never silently changed: the keys `__proto__`, `constructor` and `prototype` anywhere
 * in `data` (JSON.parse and GraphQL object literals make `__proto__` an own key, which later merges or copies may
 * turn into a prototype), numbers that are not finite (`1e999` in a GraphQL literal is Infinity, which JSON would
 * store as null), and negative values of fields marked `@nonNegative` in the SDL.
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

/** Keys that address an object's prototype machinery; refused at any depth of `data`, JSON values included. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const RESERVED = `is a reserved key (${[...RESERVED_KEYS].join(', ')} are refused anywhere in data)`;

/** The SDL directive (schema/events/order.graphql) marking numeric payload fields that refuse negative values. */
export const NON_NEGATIVE_DIRECTIVE = 'nonNegative';

const fail = (path: string, message: string): never => {
  throw new ValidationError(`${path}: ${message}`, { details: { field: path } });
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return `number ${String(value)}`; // JSON.stringify would print Infinity as null
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

/** A field path, built only when a check fails (building every path cost more than the checks). */
type Path = () => string;

const notFinite = (value: unknown): value is number => typeof value === 'number' && !Number.isFinite(value);
const NOT_FINITE = (value: number) => `must be a finite number, got ${String(value)}`;

/**
 * A JSON scalar's value, walked without recursion (its depth is the publisher's choice): refuses reserved keys
 * and non-finite numbers, which JSON cannot carry.
 */
function checkJson(value: unknown, path: Path): unknown {
  const stack: [unknown, Path][] = [[value, path]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, p] = next;
    if (notFinite(v)) fail(p(), NOT_FINITE(v));
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push([item, () => `${p()}[${i}]`]));
      continue;
    }
    for (const key of Object.keys(v)) {
      if (RESERVED_KEYS.has(key)) fail(`${p()}.${key}`, RESERVED);
      stack.push([(v as Record<string, unknown>)[key], () => `${p()}.${key}`]);
    }
  }
  return value;
}

function checkScalar(name: string, value: unknown, path: Path): unknown {
  switch (name) {
    case 'String':
    case 'ID':
      if (typeof value === 'string') return value;
      if (name === 'ID' && typeof value === 'number' && Number.isInteger(value)) return String(value);
      return fail(path(), `expected ${name === 'ID' ? 'an ID string' : 'a string'}, got ${describe(value)}`);
    case 'Int':
      if (notFinite(value)) return fail(path(), NOT_FINITE(value));
      if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 31 - 1) return value;
      return fail(path(), `expected an integer, got ${describe(value)}`);
    case 'Float':
      if (notFinite(value)) return fail(path(), NOT_FINITE(value));
      if (typeof value === 'number') return value;
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
      return checkJson(value, path); // JSON
  }
}

/**
 * The payload fields marked `@nonNegative`, read once from the SDL. Throws at start-up when the directive is not
 * defined (its checks would vanish silently) or marks a field that is not an `Int` or `Float`.
 */
function nonNegativeFields(schema: GraphQLSchema): ReadonlySet<GraphQLField<unknown, unknown>> {
  if (!schema.getDirective(NON_NEGATIVE_DIRECTIVE)) throw new Error(`Schema does not define @${NON_NEGATIVE_DIRECTIVE}`);
  const marked = new Set<GraphQLField<unknown, unknown>>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.astNode?.directives?.some((d) => d.name.value === NON_NEGATIVE_DIRECTIVE)) continue;
      const named = getNamedType(field.type);
      if (named.name !== 'Int' && named.name !== 'Float') {
        throw new Error(`@${NON_NEGATIVE_DIRECTIVE} on ${type.name}.${field.name}: only Int and Float fields can be non-negative, not ${named.name}`);
      }
      marked.add(field);
    }
  }
  return marked;
}

/** A compiled check: the normalized value, or a ValidationError naming `path()`. Null for absent optional values. */
type Check = (value: unknown, path: Path, depth: number) => unknown;

/**
 * Compiles the checks of a payload type once, at start-up: the walk then makes no type lookups and builds no
 * strings unless a value fails. Object checks are cached per type (and resolved lazily, so recursion is fine).
 */
function createCompiler(nonNegative: ReadonlySet<GraphQLField<unknown, unknown>>) {
  const objects = new Map<GraphQLObjectType, Check>();

  const compileObject = (type: GraphQLObjectType, fields: Record<string, GraphQLField<unknown, unknown>> = type.getFields()): Check => {
    let entries: { name: string; check: Check }[] | undefined;
    return (value, path, depth) => {
      if (depth > MAX_DEPTH) fail(path(), 'is nested too deeply');
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path(), `expected an object, got ${describe(value)}`);
      entries ??= Object.entries(fields).map(([name, field]) => ({ name, check: compile(field.type, nonNegative.has(field)) }));
      const input = value as Record<string, unknown>;
      for (const key in input) {
        if (!Object.hasOwn(input, key)) continue;
        if (RESERVED_KEYS.has(key)) fail(`${path()}.${key}`, RESERVED);
        // Own fields only: `key in fields` would take `toString` for a field of every payload.
        if (!Object.hasOwn(fields, key)) fail(`${path()}.${key}`, `is not a field of this payload (fields: ${Object.keys(fields).join(', ')})`);
      }
      const out: Record<string, unknown> = {};
      for (const { name, check } of entries) {
        const v = check(input[name], () => `${path()}.${name}`, depth);
        if (v !== null) out[name] = v;
      }
      return out;
    };
  };

  /** `nonNegative`: the field is marked `@nonNegative` (on a list, each item is checked). */
  const compile = (type: GraphQLOutputType, nonNegative = false): Check => {
    const required = isNonNullType(type);
    const inner = getNullableType(type);
    let check: Check;
    if (isListType(inner)) {
      const item = compile(inner.ofType, nonNegative);
      check = (value, path, depth) => {
        if (!Array.isArray(value)) fail(path(), `expected a list, got ${describe(value)}`);
        return (value as unknown[]).map((v, i) => item(v, () => `${path()}[${i}]`, depth));
      };
    } else if (isScalarType(inner)) {
      const name = inner.name;
      check = nonNegative
        ? (value, path) => {
            const v = checkScalar(name, value, path) as number;
            return v < 0 ? fail(path(), `must not be negative, got ${v}`) : v;
          }
        : (value, path) => checkScalar(name, value, path);
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
  const { compileObject } = createCompiler(nonNegativeFields(schema));
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
