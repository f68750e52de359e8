import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { publish } from '../utils/publish.js';
import { examplePayload } from '../../src/events/examples.js';
import { csvCell, CSV_COLUMNS } from '../../src/analytics/export.js';
import { newEventId } from '../../src/events/ids.js';
import { parseCsv } from '../utils/csv.js';

const CALC = "=cmd|' /C calc'!A0";
const HYPERLINK = '=HYPERLINK("http://x","y")';
/** Each formula trigger OWASP lists: `=`, `+`, `-`, `@`, tab, carriage return. */
const TRIGGERS = [CALC, '+1+cmd|x!A1', '-2+3+cmd|x!A1', '@SUM(1+1)*cmd|x!A1', '\t=1+1', '\r=1+1'];

const column = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);

describe('GET /export?format=csv with formula-like values', () => {
  let server: TestServer;
  let rows: string[][];
  let text: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startServer();
    for (const userId of TRIGGERS) ids[userId] = (await publish(server, { type: 'order_created', userId, source: 'orders-service' })).id;
    const dropoff = await publish(server, {
      type: 'delivery_arrived',
      userId: 'cus_plain',
      source: 'dispatch',
      data: examplePayload('delivery_arrived', { dropoffInstructions: HYPERLINK }),
    });
    ids['dropoff'] = dropoff.id;
    ids['wallet'] = (await publish(server, { type: 'wallet_updated', userId: 'cus_plain', data: examplePayload('wallet_updated', { delta: -12.5 }) })).id;
    // publishEvent only accepts sources like `orders-service`; a store can still hold others (older versions,
    // other writers), so one is appended directly, as the export must be safe for whatever the log holds.
    const [appended] = await server.herald.store.append([
      { id: newEventId(), type: 'system_alert', level: 'CRITICAL', userId: null, roles: [], source: HYPERLINK, timestamp: Date.now(),
        data: examplePayload('system_alert'), deliveryId: null, idempotencyKey: null },
    ]);
    ids['source'] = appended!.event.id;
    const response = await fetch(`${server.url}/export?format=csv`, { headers: { authorization: `Bearer ${server.token('adm_csv', 'admin')}` } });
    expect(response.status).toBe(200);
    text = await response.text();
    rows = parseCsv(text);
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  const rowOf = (id: string) => {
    const row = rows.find((r) => r[column('id')] === id);
    if (!row) throw new Error(`no CSV row for ${id}`);
    return row;
  };

  it('prefixes a userId starting with = + - @ tab or CR with a quote, inside a quoted cell', () => {
    for (const userId of TRIGGERS) {
      expect(rowOf(ids[userId]!)[column('userId')], JSON.stringify(userId)).toBe(`'${userId}`);
      expect(text).toContain(`,"'${userId.replace(/"/g, '""')}",`);
    }
    expect(text).toContain(`,"'=cmd|' /C calc'!A0",`);
  });

  it('neutralizes a formula in the source column', () => {
    expect(rowOf(ids['source']!)[column('source')]).toBe(`'${HYPERLINK}`);
    expect(text).toContain(`,"'=HYPERLINK(""http://x"",""y"")",`);
  });

  it('keeps the data cell a JSON object whose strings and numbers are exactly what was published', () => {
    const dropoff = rowOf(ids['dropoff']!)[column('data')]!;
    expect(dropoff.startsWith('{')).toBe(true);
    expect(JSON.parse(dropoff).dropoffInstructions).toBe(HYPERLINK);
    expect(JSON.parse(rowOf(ids['wallet']!)[column('data')]!).delta).toBe(-12.5);
  });

  it('starts no cell of the file with a formula character', () => {
    for (const row of rows) for (const cell of row) expect(cell, JSON.stringify(row)).not.toMatch(/^[=+\-@\t\r]/);
    expect(rows).toHaveLength(1 + TRIGGERS.length + 3);
  });
});

describe('csvCell', () => {
  it('neutralizes strings only: a negative number stays a number, the same text as a string does not', () => {
    expect(csvCell(-12.5)).toBe('-12.5');
    expect(csvCell(0)).toBe('0');
    expect(csvCell('-12.5')).toBe(`"'-12.5"`);
    expect(csvCell('cus_1')).toBe('cus_1');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('＝1+1')).toBe(`"'＝1+1"`);
    expect(csvCell(null)).toBe('');
  });
});
