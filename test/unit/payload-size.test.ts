import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/graphql/schema.js';
import { createPayloadValidator } from '../../src/graphql/payload-validator.js';
import { examplePayload } from '../../src/events/examples.js';
import { ValidationError } from '../../src/errors.js';

const validator = createPayloadValidator(buildSchema([]));

/** A system_alert payload whose JSON is exactly `size` characters, padded through `message`. */
function alertOfJsonLength(size: number): Record<string, unknown> {
  const base = examplePayload('system_alert', { message: '' });
  const normalizedLength = JSON.stringify(validator.validate('system_alert', base)).length;
  return { ...base, message: 'x'.repeat(size - normalizedLength) };
}

describe('payload size cap', () => {
  it('accepts a payload of exactly 64 KiB of JSON and refuses one character more', () => {
    expect(() => validator.validate('system_alert', alertOfJsonLength(64 * 1024))).not.toThrow();
    const error = (() => {
      try {
        validator.validate('system_alert', alertOfJsonLength(64 * 1024 + 1));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual({ field: 'data' });
  });

  it('counts escaped characters as JSON does', () => {
    // "\u0001" takes 6 characters of JSON for 1 character of string.
    const base = JSON.stringify(validator.validate('system_alert', examplePayload('system_alert', { message: '' }))).length;
    const fits = Math.floor((64 * 1024 - base) / 6);
    const escaped = (n: number) => examplePayload('system_alert', { message: '\u0001'.repeat(n) });
    expect(() => validator.validate('system_alert', escaped(fits))).not.toThrow();
    expect(() => validator.validate('system_alert', escaped(fits + 1))).toThrow(/exceeds 64 KiB/);
  });
});
