/** Authorization helpers used by every resolver: nothing runs without a viewer. */
import type { Role } from '../events/catalogue.js';
import type { VerifiedViewer } from '../auth/tokens.js';
import { AuthError, CursorError, ForbiddenError, ValidationError } from '../errors.js';
import type { LogPosition } from '../events/model.js';
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

/**
 * Parses a client-supplied page cursor: BAD_USER_INPUT naming the argument for a string that is no cursor,
 * CURSOR_UNKNOWN for a cursor of another log. (Subscriptions resume through `hub.resumePoint`, which counts.)
 */
export function parseCursor(ctx: GraphQLContext, cursor: string | null | undefined, argument: string): LogPosition | undefined {
  if (cursor === null || cursor === undefined || cursor === '') return undefined;
  const decoded = ctx.hub.cursors.decode(cursor);
  if (decoded.kind === 'position') return decoded.position;
  if (decoded.kind === 'foreign') throw new CursorError('CURSOR_UNKNOWN', `${argument}: this cursor comes from another event log; start again from the first page`, { details: { field: argument } });
  throw new ValidationError(`${argument}: ${JSON.stringify(cursor.slice(0, 40))} is not a cursor from this hub`, { details: { field: argument } });
}
