/**
 * GraphQL Code Generator plugin for @herald/sdk: from the schema alone, emits the event catalogue as the SDK
 * needs it — the EventType values, a map from each value to its object type (PascalCase + `Event`, the
 * schema's naming rule), each type's publish payload (its fields minus the `Event` interface's), and the
 * selection set of every field of every event type, so subscriptions hand handlers complete, typed events.
 * It complements the `typescript` plugin, whose output (`./schema.js`) it imports.
 *
 * GraphQL refuses one selection with fields of the same name and different types in sibling fragments
 * (`deliveryPartnerId: ID!` on one event, `ID` on another). Such fields are aliased `<Type>__<field>` in every
 * fragment, and the SDK renames them back (`EVENT_ALIAS_SEPARATOR`), so handlers see the schema's field names.
 */
'use strict';
const { isObjectType, isInterfaceType, getNamedType, isLeafType } = require('graphql');

const pascal = (value) => value.toLowerCase().split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('');

/** Every field of `type`, nested objects expanded (leaves only: scalars, enums). */
function selection(type, indent) {
  const pad = ' '.repeat(indent);
  return Object.values(type.getFields())
    .map((field) => {
      const named = getNamedType(field.type);
      if (isLeafType(named)) return `${pad}${field.name}`;
      return `${pad}${field.name} {\n${selection(named, indent + 2)}\n${pad}}`;
    })
    .join('\n');
}

module.exports = {
  plugin(schema, _documents, config) {
    const schemaModule = config.schemaModule || './schema.js';
    const eventInterface = schema.getType('Event');
    const eventType = schema.getType('EventType');
    if (!isInterfaceType(eventInterface) || !eventType) throw new Error('herald-events-plugin: the schema needs `interface Event` and `enum EventType`');
    const baseFields = Object.keys(eventInterface.getFields());
    const values = eventType.getValues().map((v) => v.name);
    const entries = values.map((value) => {
      const typeName = `${pascal(value)}Event`;
      const type = schema.getType(typeName);
      if (!isObjectType(type) || !type.getInterfaces().includes(eventInterface)) {
        throw new Error(`herald-events-plugin: EventType ${value} has no object type ${typeName} implementing Event`);
      }
      return { value, typeName, type };
    });
    const ownFields = (type) => Object.values(type.getFields()).filter((f) => !baseFields.includes(f.name));
    // Per conflicting field name, the signature most event types share keeps the plain name; the others are aliased.
    const signatures = new Map();
    for (const { type } of entries) {
      for (const field of ownFields(type)) {
        if (!signatures.has(field.name)) signatures.set(field.name, new Map());
        const counts = signatures.get(field.name);
        counts.set(String(field.type), (counts.get(String(field.type)) || 0) + 1);
      }
    }
    const plain = new Map([...signatures].map(([name, counts]) => [name, [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0]]));
    const aliased = new Set();
    const fragments = entries.map(({ value, typeName, type }) => {
      const inner = ownFields(type)
        .map((field) => {
          const named = getNamedType(field.type);
          const needsAlias = plain.get(field.name) !== String(field.type);
          if (needsAlias) aliased.add(field.name);
          const alias = needsAlias ? `${typeName}__${field.name}: ` : '';
          if (isLeafType(named)) return `    ${alias}${field.name}`;
          return `    ${alias}${field.name} {\n${selection(named, 6)}\n    }`;
        })
        .join('\n');
      return { value, text: `  ... on ${typeName} {\n${inner}\n  }` };
    });
    const base = baseFields.map((f) => `  ${f}`).join('\n');
    const baseUnion = baseFields.map((f) => `'${f}'`).join(' | ');

    const out = [];
    out.push(`import type * as Schema from '${schemaModule}';`);
    out.push('');
    out.push('/** Every `EventType` value, in schema order. */');
    out.push(`export const EVENT_TYPES = [\n${values.map((v) => `  '${v}',`).join('\n')}\n] as const;`);
    out.push('');
    out.push('/** An `EventType` value as GraphQL shows it (`ORDER_CREATED`). */');
    out.push('export type EventTypeName = (typeof EVENT_TYPES)[number];');
    out.push('');
    out.push('/** The fields every event carries (the `Event` interface); the rest of an event is its payload. */');
    out.push(`export type EventBaseField = ${baseUnion};`);
    out.push('');
    out.push('/** The GraphQL object type of each event type. */');
    out.push(`export const EVENT_TYPENAMES = {\n${entries.map((e) => `  ${e.value}: '${e.typeName}',`).join('\n')}\n} as const;`);
    out.push('');
    out.push('/** Each event type\'s event as a subscription delivers it: `__typename` and `type` narrowed, so a `switch (event.type)` narrows the union. */');
    out.push('export interface EventMap {');
    for (const e of entries) out.push(`  ${e.value}: Schema.${e.typeName} & { readonly __typename: '${e.typeName}'; readonly type: '${e.value}' };`);
    out.push('}');
    out.push('');
    out.push('/** The `data` a publisher sends for each event type: the type\'s own fields, validated by the hub. */');
    out.push('export interface PayloadMap {');
    for (const e of entries) out.push(`  ${e.value}: Omit<Schema.${e.typeName}, EventBaseField>;`);
    out.push('}');
    out.push('');
    out.push('/** Separates a type name from a field name in the aliases of `EVENT_FRAGMENTS` (`OrderReadyEvent__deliveryPartnerId`). */');
    out.push("export const EVENT_ALIAS_SEPARATOR = '__';");
    out.push('');
    out.push('/** Fields aliased in `EVENT_FRAGMENTS` because their type differs between event types. */');
    out.push(`export const EVENT_ALIASED_FIELDS: readonly string[] = [${[...aliased].sort().map((f) => `'${f}'`).join(', ')}];`);
    out.push('');
    out.push('/** The fields of the `Event` interface, for subscription documents. */');
    out.push(`export const EVENT_BASE_SELECTION = \`\n  __typename\n${base}\n\`;`);
    out.push('');
    out.push('/** Each event type\'s own fields as an inline fragment; a document selects the base and the fragments of the types it asks for. */');
    out.push('export const EVENT_FRAGMENTS: { readonly [T in EventTypeName]: string } = {');
    for (const f of fragments) out.push(`  ${f.value}: \`\n${f.text}\`,`);
    out.push('};');
    return out.join('\n') + '\n';
  },
};
