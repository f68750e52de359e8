/**
 * Builds the executable schema from the SDL in schema/ (split by domain) and the typed resolvers.
 * Fields of event types are resolved generically: interface fields from the event, payload fields
 * from `event.data`, so adding an event type needs SDL and a catalogue row, no resolver code.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { isObjectType } from 'graphql';
import { CATALOGUE, ROLES } from '../events/catalogue.js';
import type { HeraldEvent } from '../events/model.js';
import type { GraphQLContext } from './context.js';
import type { Resolvers } from './generated/resolvers-types.js';
import { DateTimeScalar, JSONScalar } from './scalars.js';
import { EVENT_FIELDS } from './payload-validator.js';

/** schema/ at the repository root. */
/** `schema/` at the repository root, seen from src/graphql (tsx) or from dist/src/graphql (the build). */
export const SCHEMA_DIR = [fileURLToPath(new URL('../../schema/', import.meta.url)), fileURLToPath(new URL('../../../schema/', import.meta.url))].find((dir) => existsSync(dir))!;

/** Every `.graphql` file under schema/, in a stable order. */
export function loadTypeDefs(dir = SCHEMA_DIR): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.graphql')) files.push(readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

/** GraphQL shows SCREAMING_CASE enum values; the domain works with the snake_case names. */
const ENUMS = {
  EventType: Object.fromEntries(CATALOGUE.map((spec) => [spec.enumValue, spec.type])),
  Role: Object.fromEntries(ROLES.map((role) => [role.toUpperCase(), role])),
};

export function buildSchema(resolvers: readonly Resolvers[]): GraphQLSchema {
  const schema = makeExecutableSchema({
    typeDefs: loadTypeDefs(),
    resolvers: [{ DateTime: DateTimeScalar, JSON: JSONScalar, ...ENUMS }, ...resolvers] as never[],
    resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
  });
  for (const spec of CATALOGUE) {
    const type = schema.getType(spec.graphqlType);
    if (!isObjectType(type)) throw new Error(`schema/ has no object type ${spec.graphqlType} for catalogue entry ${spec.type}`);
    for (const [name, field] of Object.entries(type.getFields())) {
      if (name === 'cursor') field.resolve = (event: HeraldEvent, _args: unknown, ctx: GraphQLContext) => ctx.hub.cursors.encode(event.seq);
      else if (!EVENT_FIELDS.has(name)) field.resolve = (event: HeraldEvent) => event.data[name] ?? null;
    }
  }
  return schema;
}
