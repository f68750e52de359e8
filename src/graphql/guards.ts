/** Authorization helpers used by every resolver: nothing runs without a viewer. */
import type { Role } from '../events/catalogue.js';
import type { VerifiedViewer } from '../auth/tokens.js';
import { AuthError, ForbiddenError } from '../errors.js';
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

/** A client-supplied page cursor (see `CursorCodec.read`). Subscriptions resume through `hub.resumePoint`, which counts. */
export const parseCursor = (ctx: GraphQLContext, cursor: string | null | undefined, argument: string): LogPosition | undefined =>
  ctx.hub.cursors.read(cursor, argument, 'Start again from the first page');
