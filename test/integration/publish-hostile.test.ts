import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../utils/server.js';
import { toInput } from '../utils/publish.js';
import { examplePayload } from '../../src/events/examples.js';

const PUBLISH = 'mutation($input: PublishEventInput!) { publishEvent(input: $input) { id } }';
const PUBLISH_MANY = 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }';

/** A JS value as a GraphQL input literal: object keys bare, ±Infinity as ±1e999 (which GraphQL parses to it). */
function literal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : `${value < 0 ? '-' : ''}1e999`;
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${literal(v)}`).join(', ')} }`;
  }
  return JSON.stringify(value);
}

describe('publishing hostile payloads over HTTP', () => {
  let server: TestServer;
  let service: string;
  let admin: string;

  beforeAll(async () => {
    server = await startServer();
    service = server.token('hostile-service', 'service');
    admin = server.token('adm_hostile', 'admin');
  });
  afterAll(async () => {
    await server.close({ removeData: true });
  });

  /** POSTs a raw JSON body, so keys such as `"__proto__"` reach the server exactly as written. */
  const postRaw = async (body: string) => {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${service}` },
      body,
    });
    return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
  };

  const loggedFor = async (userId: string) => {
    const { body } = await server.gql(`{ events(filter: { userId: "${userId}" }) { edges { node { id } } } }`, {}, admin);
    return body.data.events.edges.length as number;
  };

  it('refuses a "__proto__" key in JSON variables with 400 BAD_USER_INPUT naming data.__proto__', async () => {
    const input = JSON.stringify(toInput({ type: 'inventory_alert', userId: 'sup_proto', data: examplePayload('inventory_alert') }));
    const withProto = input.replace('"data":{', '"data":{"__proto__":{"isAdmin":true},');
    const { status, body } = await postRaw(`{"query":${JSON.stringify(PUBLISH)},"variables":{"input":${withProto}}}`);
    expect(status).toBe(400);
    expect(body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.__proto__' });
    expect(body.errors![0].message).toMatch(/reserved key/);
    expect(await loggedFor('sup_proto')).toBe(0);
  });

  it('refuses constructor deep in a JSON field and __proto__ in one input of a batch', async () => {
    const details = JSON.parse('{"hosts":[{"constructor":{"prototype":{"x":1}}}]}');
    const alert = await server.gql(PUBLISH, { input: toInput({ type: 'system_alert', data: { ...examplePayload('system_alert'), details } }) }, service);
    expect(alert.status).toBe(400);
    expect(alert.body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.details.hosts[0].constructor' });

    const items = JSON.parse('[{"sku":"a","name":"A","quantity":1,"unitPrice":1,"__proto__":{"quantity":5}}]');
    const batch = await server.gql(
      PUBLISH_MANY,
      { inputs: [toInput({ type: 'order_created', userId: 'cus_batch' }), toInput({ type: 'order_created', userId: 'cus_batch', data: examplePayload('order_created', { items }) })] },
      service,
    );
    expect(batch.body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputs[1].data.items[0].__proto__' });
    expect(await loggedFor('cus_batch')).toBe(0);
  });

  it('refuses __proto__ written as a key of an inline GraphQL data literal', async () => {
    const data = literal(examplePayload('payment_failed')).replace('{ ', '{ __proto__: { retryable: true }, ');
    const { status, body } = await server.gql(
      `mutation { publishEvent(input: { type: PAYMENT_FAILED, userId: "cus_literal", source: "payments", data: ${data} }) { id } }`,
      undefined,
      service,
    );
    expect(status).toBe(400);
    expect(body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.__proto__' });
  });

  it('reports 1e999 in an inline data literal as "must be a finite number, got Infinity"', async () => {
    const data = literal(examplePayload('payment_failed', { amount: Number.POSITIVE_INFINITY }));
    expect(data).toMatch(/amount: 1e999,/);
    const amount = await server.gql(
      `mutation { publishEvent(input: { type: PAYMENT_FAILED, userId: "cus_literal", source: "payments", data: ${data} }) { id } }`,
      undefined,
      service,
    );
    expect(amount.status).toBe(400);
    expect(amount.body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.amount' });
    expect(amount.body.errors![0].message).toBe('data.amount: must be a finite number, got Infinity');

    const details = literal({ ...examplePayload('system_alert'), details: { p99: Number.NEGATIVE_INFINITY } });
    expect(details).toMatch(/p99: -1e999 /);
    const inJson = await server.gql(`mutation { publishEvent(input: { type: SYSTEM_ALERT, source: "monitor", data: ${details} }) { id } }`, undefined, service);
    expect(inJson.body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.details.p99' });
    expect(inJson.body.errors![0].message).toBe('data.details.p99: must be a finite number, got -Infinity');
    expect(await loggedFor('cus_literal')).toBe(0);
  });

  it('refuses a negative stock count of inventory_alert naming the field, and accepts zero', async () => {
    for (const field of ['quantityLeft', 'threshold']) {
      const data = examplePayload('inventory_alert', { [field]: -5 });
      const { status, body } = await server.gql(PUBLISH, { input: toInput({ type: 'inventory_alert', userId: 'sup_negative', data }) }, service);
      expect(status, field).toBe(400);
      expect(body.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: `data.${field}` });
      expect(body.errors![0].message).toBe(`data.${field}: must not be negative, got -5`);
    }
    expect(await loggedFor('sup_negative')).toBe(0);
    const zero = examplePayload('inventory_alert', { quantityLeft: 0, alertKind: 'OUT_OF_STOCK' });
    const ok = await server.gql(PUBLISH, { input: toInput({ type: 'inventory_alert', userId: 'sup_negative', data: zero }) }, service);
    expect(ok.body.errors).toBeUndefined();
    expect(await loggedFor('sup_negative')).toBe(1);
  });
});
