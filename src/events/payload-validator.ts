import type { EventTypeName } from './catalogue.js';

/**
 * Checks an event's `data` against its type's payload fields. Built from the GraphQL schema at
 * start-up (src/graphql/payload-validator.ts) so the SDL stays the single definition of payloads.
 */
export interface PayloadValidator {
  /** Returns the normalized payload, or throws ValidationError naming the field (`data.items[0].sku`). */
  validate(type: EventTypeName, data: unknown): Record<string, unknown>;
}
