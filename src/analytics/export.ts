/**
 * Event export: keyset pages of the log in seq order, encoded as JSON (one array), NDJSON or CSV one page at
 * a time, so an export of any size holds one page in memory. The HTTP route is src/transport/export.ts.
 */
import type { EventStore } from '../events/event-store.js';
import type { HeraldEvent } from '../events/model.js';
import type { CursorCodec } from '../events/cursor.js';

export type ExportFormat = 'json' | 'ndjson' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'ndjson', 'csv'];

/**
 * CSV columns, in this order, always all present. `cursor` is the event's position in the log; `type` the
 * snake_case name; `roles` joined with `|`; `timestamp` ISO-8601 UTC with ms; `data` the payload as JSON.
 * Empty cells stand for null. JSON and NDJSON records carry the same fields (roles as an array, data as an object).
 */
export const CSV_COLUMNS = ['id', 'cursor', 'type', 'level', 'userId', 'roles', 'source', 'timestamp', 'data'] as const;

export interface ExportRecord {
  readonly id: string;
  readonly cursor: string;
  readonly type: string;
  readonly level: string;
  readonly userId: string | null;
  readonly roles: readonly string[];
  readonly source: string;
  readonly timestamp: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export const toExportRecord = (event: HeraldEvent, cursors: CursorCodec): ExportRecord => ({
  id: event.id,
  cursor: cursors.encode(event.seq),
  type: event.type,
  level: event.level,
  userId: event.userId,
  roles: event.roles,
  source: event.source,
  timestamp: new Date(event.timestamp).toISOString(),
  data: event.data,
});

/**
 * First characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection"): `=`, `+`, `-`, `@`,
 * tab and carriage return, and the full-width `＝ ＋ － ＠` that some spreadsheets fold into them.
 */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * One CSV cell. Strings follow RFC 4180 (quoted when they hold a comma, quote, CR or LF; quotes doubled), and a
 * string that could start a formula is neutralized per OWASP: prefixed with `'` and quoted, so `=cmd|' /C calc'!A0`
 * is written `"'=cmd|' /C calc'!A0"` and a spreadsheet shows it as text. Numbers are written as numbers (a negative
 * amount stays `-12.5`): only strings can carry a formula. Null is the empty cell, and so is a non-finite number,
 * as JSON writes it null.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (FORMULA_START.test(value)) return `"'${value.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvRow(record: ExportRecord): string {
  // Every column is a string (the cursor too is opaque text), so every cell goes through the formula guard.
  const cells: (string | null)[] = [
    record.id,
    record.cursor,
    record.type,
    record.level,
    record.userId,
    record.roles.join('|'),
    record.source,
    record.timestamp,
    JSON.stringify(record.data),
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export interface ExportEncoding {
  readonly contentType: string;
  readonly extension: string;
  readonly head: string;
  /** Encodes one page; `first` is true for the export's first page. */
  page(events: readonly HeraldEvent[], first: boolean): string;
  readonly tail: string;
}

export function exportEncoding(format: ExportFormat, cursors: CursorCodec): ExportEncoding {
  switch (format) {
    case 'csv':
      return {
        contentType: 'text/csv; charset=utf-8',
        extension: 'csv',
        head: `${CSV_COLUMNS.join(',')}\r\n`,
        page: (events) => events.map((e) => csvRow(toExportRecord(e, cursors))).join(''),
        tail: '',
      };
    case 'ndjson':
      return {
        contentType: 'application/x-ndjson',
        extension: 'ndjson',
        head: '',
        page: (events) => events.map((e) => `${JSON.stringify(toExportRecord(e, cursors))}\n`).join(''),
        tail: '',
      };
    case 'json':
      return {
        contentType: 'application/json; charset=utf-8',
        extension: 'json',
        head: '[',
        page: (events, first) => events.map((e, i) => `${first && i === 0 ? '\n' : ',\n'}${JSON.stringify(toExportRecord(e, cursors))}`).join(''),
        tail: '\n]\n',
      };
  }
}

export interface ExportRange {
  /** Inclusive, ms. */
  readonly from?: number;
  /** Exclusive, ms. */
  readonly to?: number;
}

/** Pages of events in `[from, to)`, oldest first (seq order), `pageSize` per store read. */
export async function* exportPages(store: EventStore, range: ExportRange, pageSize = 1000): AsyncGenerator<HeraldEvent[]> {
  let afterSeq: number | undefined;
  for (;;) {
    const page = await store.list({ filter: { from: range.from, to: range.to }, afterSeq, order: 'ASC', limit: pageSize });
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    afterSeq = page[page.length - 1]!.seq;
  }
}
