/** The logger, created once in main.ts and injected everywhere else. */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths redacted from every log line: tokens and secrets never reach the logs. */
const REDACT = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'access_token',
  'token',
  'secret',
  'secrets',
  '*.secret',
  '*.token',
  'connectionParams.authorization',
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
