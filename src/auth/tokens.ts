/**
 * JWT verification (jsonwebtoken) and signing for development and tests.
 * Claims: `sub` = user id, `role` = a Role (legacy `delivery_boy` is read as `delivery_partner`).
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ROLES, type Role } from '../events/catalogue.js';
import type { Viewer } from '../events/model.js';
import { AuthError, ForbiddenError } from '../errors.js';
import type { JwtConfig } from '../config.js';

/** Viewer plus the token's expiry, so live connections can close when it lapses. */
export interface VerifiedViewer extends Viewer {
  /** Expiry in ms since the epoch; undefined when the token has no `exp`. */
  readonly expiresAt: number | undefined;
  /** When the token was issued (`iat`, ms since the epoch); 0 when it has none. */
  readonly issuedAt?: number;
}

export interface TokenVerifierOptions {
  /** Whether this user's token issued at `issuedAt` was revoked (see auth/revocations.ts). */
  readonly isRevoked?: (userId: string, issuedAt: number) => boolean;
}

export interface TokenVerifier {
  /** Verifies a raw token (no `Bearer ` prefix). Throws AuthError (401) or ForbiddenError (403). */
  verify(token: string): VerifiedViewer;
}

const LEGACY_ROLES: Readonly<Record<string, Role>> = { delivery_boy: 'delivery_partner' };

export function normalizeRole(role: unknown): Role | undefined {
  if (typeof role !== 'string') return undefined;
  const r = LEGACY_ROLES[role] ?? role;
  return (ROLES as readonly string[]).includes(r) ? (r as Role) : undefined;
}

export function createTokenVerifier(config: JwtConfig, options: TokenVerifierOptions = {}): TokenVerifier {
  // Key objects made once: given a string, jsonwebtoken first tries it as a PEM public key on every call
  // (and builds an error when it is a secret), which was most of the cost of authenticating a request.
  const keys: Array<{ key: KeyObject; algorithms: jwt.Algorithm[] }> = [];
  if (config.secret) keys.push({ key: createSecretKey(Buffer.from(config.secret)), algorithms: ['HS256'] });
  if (config.publicKey) keys.push({ key: createPublicKey(config.publicKey), algorithms: ['RS256', 'ES256'] });

  return {
    verify(token) {
      let payload: jwt.JwtPayload | string | undefined;
      let lastError: unknown;
      for (const { key, algorithms } of keys) {
        try {
          payload = jwt.verify(token, key, {
            algorithms,
            issuer: config.issuer,
            audience: config.audience,
          });
          break;
        } catch (error) {
          if (error instanceof jwt.TokenExpiredError) {
            throw new AuthError('TOKEN_EXPIRED', `Token expired at ${error.expiredAt.toISOString()}`, { cause: error });
          }
          lastError = error;
        }
      }
      if (payload === undefined) {
        const reason = lastError instanceof jwt.NotBeforeError ? 'token is not valid yet' : 'signature or format is invalid';
        throw new AuthError('TOKEN_INVALID', `Invalid token: ${reason}`, { cause: lastError });
      }
      if (typeof payload === 'string' || typeof payload.sub !== 'string' || payload.sub === '') {
        throw new AuthError('TOKEN_INVALID', 'Invalid token: the `sub` claim (user id) is missing');
      }
      if (config.maxSubjectLength !== undefined && payload.sub.length > config.maxSubjectLength) {
        throw new AuthError('TOKEN_INVALID', `Invalid token: the \`sub\` claim is longer than ${config.maxSubjectLength} characters`);
      }
      const role = normalizeRole(payload['role']);
      if (!role) {
        throw new ForbiddenError(`Token role ${JSON.stringify(payload['role'] ?? null)} is not one of ${ROLES.join(', ')}`);
      }
      if (config.maxAgeMs !== undefined) {
        if (typeof payload.exp !== 'number') {
          throw new AuthError('TOKEN_INVALID', 'Invalid token: it has no `exp` claim; Herald accepts only tokens that expire (JWT_MAX_AGE)');
        }
        const issuedAt = typeof payload.iat === 'number' ? payload.iat * 1000 : Date.now();
        if (payload.exp * 1000 - issuedAt > config.maxAgeMs) {
          throw new AuthError('TOKEN_INVALID', `Invalid token: it lives longer than the ${Math.round(config.maxAgeMs / 60_000)} minutes JWT_MAX_AGE allows`);
        }
      }
      const issuedAt = typeof payload.iat === 'number' ? payload.iat * 1000 : 0;
      if (options.isRevoked?.(payload.sub, issuedAt)) {
        throw new AuthError('TOKEN_REVOKED', 'Token revoked: the sessions of this user were revoked after it was issued; sign in again for a new token');
      }
      return { userId: payload.sub, role, expiresAt: payload.exp ? payload.exp * 1000 : undefined, issuedAt };
    },
  };
}

/** Extracts the token from an `Authorization: Bearer <jwt>` value. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new AuthError('TOKEN_INVALID', 'Authorization header must be "Bearer <token>"');
  return match[1];
}

export interface SignOptions {
  sub: string;
  role: Role | 'delivery_boy';
  /** Seconds until expiry, or a jsonwebtoken span like '12h'. @default '12h' */
  expiresIn?: number | string;
}

/** Signs an HS256 token. For development (`npm run token`) and tests only. */
export function signDevToken(secret: string, options: SignOptions): string {
  return jwt.sign({ role: options.role }, secret, {
    algorithm: 'HS256',
    subject: options.sub,
    expiresIn: (options.expiresIn ?? '12h') as jwt.SignOptions['expiresIn'],
  });
}
