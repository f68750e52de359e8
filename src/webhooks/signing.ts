/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): receivers verify deliveries with any
 * Standard Webhooks / Svix library. Several secrets may sign one message, so a secret can be rotated
 * without a window where receivers reject deliveries.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { ValidationError } from '../errors.js';

const SECRET_PREFIX = 'whsec_';
/** 24 random bytes = 192 bits; the spec asks for 24 to 64. */
const SECRET_BYTES = 24;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** What gets signed. */
export interface SignInput {
  /** The `webhook-id`: unique per message, the same on every retry of it (receivers dedupe on it). */
  readonly msgId: string;
  /** The `webhook-timestamp`, in whole seconds since the epoch, of this attempt. */
  readonly timestamp: number;
  /** The exact request body sent, byte for byte; re-serialising JSON breaks the signature. */
  readonly body: string;
  /** `whsec_<base64>` secrets; one signature per secret, in this order. */
  readonly secrets: readonly string[];
}

/** Headers of a signed delivery. */
export interface WebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
  readonly 'content-type': 'application/json';
  readonly 'user-agent': 'Herald-Webhooks/1';
}

/** A new signing secret: `whsec_` + base64 of 24 random bytes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/**
 * The HMAC key of a secret: the base64 after `whsec_` (the prefix is optional, as in the reference libraries).
 * @throws {ValidationError} when the rest is not base64 or decodes to nothing. The secret is never echoed.
 */
const secretKey = (secret: string, index: number): Buffer => {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (encoded === '' || !BASE64.test(encoded)) {
    throw new ValidationError(`webhook secret #${index + 1} is not "whsec_" followed by base64`);
  }
  return Buffer.from(encoded, 'base64');
};

/**
 * The `webhook-signature` header value: `v1,<base64 HMAC-SHA256(key, "msgId.timestamp.body")>` per secret,
 * space-separated.
 * @throws {ValidationError} with no secrets, a malformed secret, an empty `msgId`, or a timestamp that is not
 *   a non-negative integer number of seconds.
 */
export function signPayload({ msgId, timestamp, body, secrets }: SignInput): string {
  if (msgId === '') throw new ValidationError('webhook message id must not be empty');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new ValidationError(`webhook timestamp must be whole seconds since the epoch, got ${timestamp}`);
  }
  if (secrets.length === 0) throw new ValidationError('at least one webhook secret is needed to sign');
  const content = `${msgId}.${timestamp}.${body}`;
  return secrets
    .map((secret, index) => createHmac('sha256', secretKey(secret, index)).update(content, 'utf8').digest('base64'))
    .map((signature) => `v1,${signature}`)
    .join(' ');
}

/**
 * All headers of a signed delivery. The caller sends `body` exactly as given.
 * @throws {ValidationError} as {@link signPayload}.
 * @example
 *   const body = JSON.stringify(payload);
 *   const headers = buildWebhookHeaders({ msgId, timestamp: Math.floor(Date.now() / 1000), body, secrets });
 */
export function buildWebhookHeaders(input: SignInput): WebhookHeaders {
  return {
    'webhook-id': input.msgId,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': signPayload(input),
    'content-type': 'application/json',
    'user-agent': 'Herald-Webhooks/1',
  };
}
