import { describe, it, expect } from 'vitest';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { ValidationError } from '../../../src/errors.js';
import { buildWebhookHeaders, generateWebhookSecret, signPayload } from '../../../src/webhooks/signing.js';

const now = () => Math.floor(Date.now() / 1000);

describe('generateWebhookSecret', () => {
  it('returns whsec_ followed by the base64 of 24 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(24);
  });

  it('returns a different secret each time', () => {
    expect(new Set(Array.from({ length: 50 }, generateWebhookSecret)).size).toBe(50);
  });
});

describe('signPayload', () => {
  it('matches the Standard Webhooks reference vector', () => {
    const input = {
      msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    };
    const reference = new Webhook(input.secrets[0] ?? '').sign(input.msgId, new Date(input.timestamp * 1000), input.body);
    expect(signPayload(input)).toBe(reference);
    expect(signPayload(input)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('emits one space-separated v1 signature per secret, in order', () => {
    const secrets = [generateWebhookSecret(), generateWebhookSecret()];
    const header = signPayload({ msgId: 'msg_1', timestamp: 1_700_000_000, body: '{}', secrets });
    const parts = header.split(' ');
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(signPayload({ msgId: 'msg_1', timestamp: 1_700_000_000, body: '{}', secrets: [secrets[0] ?? ''] }));
    expect(parts[1]).toBe(signPayload({ msgId: 'msg_1', timestamp: 1_700_000_000, body: '{}', secrets: [secrets[1] ?? ''] }));
    for (const part of parts) expect(part).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('signs the exact bytes of the body, including non-ASCII text', () => {
    const secrets = [generateWebhookSecret()];
    const a = signPayload({ msgId: 'msg_1', timestamp: 1, body: '{"city":"Zürich"}', secrets });
    const b = signPayload({ msgId: 'msg_1', timestamp: 1, body: '{"city": "Zürich"}', secrets });
    expect(a).not.toBe(b);
  });

  it.each([
    ['no secrets', { secrets: [] as string[] }, /at least one webhook secret/],
    ['a secret that is not base64', { secrets: ['whsec_not base64!'] }, /secret #1 is not/],
    ['an empty secret', { secrets: ['whsec_'] }, /secret #1 is not/],
    ['a fractional timestamp', { timestamp: 1.5 }, /whole seconds/],
    ['a negative timestamp', { timestamp: -1 }, /whole seconds/],
    ['an empty message id', { msgId: '' }, /must not be empty/],
  ])('throws a ValidationError for %s', (_name, override, message) => {
    const input = { msgId: 'msg_1', timestamp: now(), body: '{}', secrets: [generateWebhookSecret()], ...override };
    expect(() => signPayload(input)).toThrow(ValidationError);
    expect(() => signPayload(input)).toThrow(message);
  });

  it('never echoes a malformed secret in its error', () => {
    expect(() => signPayload({ msgId: 'm', timestamp: 1, body: '', secrets: ['whsec_s3cr3t!!'] })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cr3t') }),
    );
  });
});

describe('buildWebhookHeaders', () => {
  const body = JSON.stringify({ type: 'order.delivered', data: { orderId: 'ord_42' } });

  it('builds the Standard Webhooks headers plus content type and user agent', () => {
    const secrets = [generateWebhookSecret()];
    const timestamp = now();
    expect(buildWebhookHeaders({ msgId: 'msg_42', timestamp, body, secrets })).toEqual({
      'webhook-id': 'msg_42',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signPayload({ msgId: 'msg_42', timestamp, body, secrets }),
      'content-type': 'application/json',
      'user-agent': 'Herald-Webhooks/1',
    });
  });

  it('verifies with the standardwebhooks library for each of two secrets signing together', () => {
    const secrets = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = buildWebhookHeaders({ msgId: 'msg_42', timestamp: now(), body, secrets });
    for (const secret of secrets) {
      expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    }
  });

  it('fails verification for a tampered body', () => {
    const secrets = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = buildWebhookHeaders({ msgId: 'msg_42', timestamp: now(), body, secrets });
    const tampered = body.replace('ord_42', 'ord_43');
    for (const secret of secrets) {
      expect(() => new Webhook(secret).verify(tampered, { ...headers })).toThrow(WebhookVerificationError);
    }
  });

  it('fails verification for a secret that did not sign', () => {
    const headers = buildWebhookHeaders({ msgId: 'msg_42', timestamp: now(), body, secrets: [generateWebhookSecret()] });
    expect(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers })).toThrow(WebhookVerificationError);
  });

  it('fails verification when the message id is changed', () => {
    const secret = generateWebhookSecret();
    const headers = buildWebhookHeaders({ msgId: 'msg_42', timestamp: now(), body, secrets: [secret] });
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_43' })).toThrow(
      WebhookVerificationError,
    );
  });
});
