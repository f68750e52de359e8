/** Authorization helpers used by every resolver: nothing runs without a viewer. */
import type { Role } from '../events/catalogue.js';
import type { VerifiedViewer } from '../auth/tokens.js';
import { AuthError, ForbiddenError, ValidationError } from '../errors.js';
import { decodeCursor, type LogPosition } from '../events/model.js';
import type { GraphQLContext } from './context.js';

export function requireViewer(ctx: GraphQLContext): VerifiedViewer {
  if (!ctx.viewer) throw new AuthError('UNAUTHENTICATED', 'Authentication required: send "Authorization: Bearer <token>"');
  return ctx.viewer;
}

export function requireRole(ctx: GraphQLContext, roles: readonly Role[], what: string): VerifiedViewer {
  const viewer = requireViewer(ctx);
  if (!roles.includes(viewer.role)) throw new ForbiddenError(`${what} is for ${roles.join(' and ')} tokens only`);
  return viewer;
}

/** Parses a client-supplied cursor, or fails with BAD_USER_INPUT naming the argument. */
export function parseCursor(cursor: string | null | undefined, argument: string): LogPosition | undefined {
  if (cursor === null || cursor === undefined || cursor === '') return undefined;
  const seq = decodeCursor(cursor);
  if (seq === undefined) throw new ValidationError(`${argument}: ${JSON.stringify(cursor.slice(0, 40))} is not a cursor from this hub`, { details: { field: argument } });
  return seq;
}
