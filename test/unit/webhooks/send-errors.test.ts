import { describe, expect, it } from 'vitest';
import { classifySendError } from '../../../src/webhooks/sender.js';
import { UnsafeUrlError } from '../../../src/errors.js';

const sysError = (code: string) => Object.assign(new Error(`${code} somewhere`), { code });

describe('classifySendError', () => {
  it.each([
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['ECONNREFUSED', 'connect'],
    ['EHOSTUNREACH', 'connect'],
    ['ECONNRESET', 'network'],
    ['EPROTO', 'network'],
  ])('reports %s as %s', (code, kind) => {
    expect(classifySendError(sysError(code)).kind).toBe(kind);
  });

  it('reports an address refused by the SSRF guard as unsafe_address', () => {
    expect(classifySendError(new UnsafeUrlError('webhook host "x" resolves to 10.0.0.1 (private, 10.0.0.0/8): refused'))).toEqual({
      kind: 'unsafe_address',
      message: 'webhook host "x" resolves to 10.0.0.1 (private, 10.0.0.0/8): refused',
    });
  });
});
