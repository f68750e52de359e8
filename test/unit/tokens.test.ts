import { describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import { generateKeyPairSync } from 'node:crypto';
import { bearerToken, createTokenVerifier, signDevToken } from '../../src/auth/tokens.js';
import { AuthError, ForbiddenError } from '../../src/errors.js';

const secret = 'unit-test-secret-0123456789-0123456789';

describe('token verification', () => {
  const verifier = createTokenVerifier({ secret, secretSource: 'env' });

  it('reads sub and role and the expiry', () => {
    const viewer = verifier.verify(signDevToken(secret, { sub: 'u1', role: 'supplier', expiresIn: 60 }));
    expect(viewer).toMatchObject({ userId: 'u1', role: 'supplier' });
    expect(viewer.expiresAt).toBeGreaterThan(Date.now());
  });

  it('maps the legacy delivery_boy role to delivery_partner', () => {
    expect(verifier.verify(signDevToken(secret, { sub: 'd', role: 'delivery_boy' })).role).toBe('delivery_partner');
  });

  it('says TOKEN_EXPIRED, TOKEN_INVALID or FORBIDDEN as the case may be', () => {
    const expired = jwt.sign({ sub: 'u', role: 'admin', exp: 1 }, secret);
    expect(() => verifier.verify(expired)).toThrow(expect.objectContaining({ code: 'TOKEN_EXPIRED' }));
    expect(() => verifier.verify('nope')).toThrow(AuthError);
    expect(() => verifier.verify(jwt.sign({ role: 'admin' }, secret))).toThrow(/sub/);
    expect(() => verifier.verify(jwt.sign({ sub: 'u', role: 'root' }, secret))).toThrow(ForbiddenError);
  });

  it('refuses alg=none and tokens signed for another algorithm', () => {
    const none = jwt.sign({ sub: 'u', role: 'admin' }, '', { algorithm: 'none' });
    expect(() => verifier.verify(none)).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID' }));
  });

  it('accepts RS256 tokens when a public key is configured', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsa = createTokenVerifier({ publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), secretSource: 'env' });
    const token = jwt.sign({ sub: 'svc', role: 'service' }, privateKey, { algorithm: 'RS256' });
    expect(rsa.verify(token)).toMatchObject({ userId: 'svc', role: 'service' });
  });

  it('checks issuer and audience when configured', () => {
    const strict = createTokenVerifier({ secret, issuer: 'auth.example', audience: 'herald', secretSource: 'env' });
    expect(() => strict.verify(signDevToken(secret, { sub: 'u', role: 'admin' }))).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID' }));
    const good = jwt.sign({ sub: 'u', role: 'admin' }, secret, { issuer: 'auth.example', audience: 'herald' });
    expect(strict.verify(good).userId).toBe('u');
  });

  it('parses Bearer headers strictly', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken(undefined)).toBeUndefined();
    expect(() => bearerToken('Basic abc')).toThrow(AuthError);
  });
});
