/** The logger, created once in main.ts and injected everywhere else. */
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths redacted from every log line: tokens and secrets never reach the logs. Covers the Authorization header of
 * a logged request (and cookies), a graphql-ws `connection_init` payload, `access_token` carried as a field, webhook
 * signing secrets (`secret`, `secrets`, `whsec`), the metrics token, and passwords, one and two levels down.
 * URLs are not fields pino can rewrite: `redactUrl` strips `access_token` from a URL before it is logged.
 */
const REDACT = [
  'authorization',
  'Authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'request.headers.authorization',
  'connectionParams.authorization',
  'connectionParams.Authorization',
  'payload.authorization',
  'payload.Authorization',
  'access_token',
  'token',
  'metricsToken',
  'secret',
  'secrets',
  'signingSecret',
  'password',
  '*.authorization',
  '*.Authorization',
  '*.access_token',
  '*.secret',
  '*.secrets',
  '*.signingSecret',
  '*.token',
  '*.password',
  '*.*.secret',
  '*.*.token',
];

/** @param destination where lines go. @default stdout */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'herald' } };
  return destination ? pino(options, destination) : pino(options);
}

/** Removes `access_token` from a URL before it is logged. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1[redacted]');
}
