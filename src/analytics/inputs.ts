/** Argument checks shared by the analytics queries: each failure names the argument (`extensions.field`). */
import { ValidationError } from '../errors.js';

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

export const invalid = (field: string, message: string): ValidationError =>
  new ValidationError(`${field}: ${message}`, { details: { field } });

/** `value` when it is an integer in `[min, max]`, else BAD_USER_INPUT naming `field`. */
export function intInRange(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(field, `must be an integer from ${min} to ${max}`);
  return value;
}

/** Start (ms) of a real UTC calendar day written `YYYY-MM-DD`, else BAD_USER_INPUT naming `field`. */
export function parseDay(value: string, field: string): number {
  const match = DAY.exec(value);
  const start = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== value) {
    throw invalid(field, `expected a UTC day as YYYY-MM-DD (e.g. "2026-11-25"), got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return start;
}

/** Checks an optional `[from, to)` range: `to` must be after `from`. */
export function checkRange(from: number | undefined, to: number | undefined): void {
  if (from !== undefined && to !== undefined && to <= from) throw invalid('to', 'must be after from');
}

/** A non-empty id of at most 200 characters. */
export function requireId(value: string, field: string): string {
  if (value.length === 0 || value.length > 200) throw invalid(field, 'must be 1-200 characters');
  return value;
}
