import type { Hub } from '../events/hub.js';
import type { VerifiedViewer } from '../auth/tokens.js';
import type { RowBudget } from './limits.js';

/** Which transport carried the operation. */
export type OperationTransport = 'http' | 'sse' | 'websocket';

/** Per-stream state shared with the SSE result processor (it writes `id:` lines from it). */
export interface StreamState {
  /** Cursor of the event whose result is being sent. */
  cursor?: string;
}

export interface GraphQLContext {
  /** The authenticated caller. Undefined only for public introspection. */
  readonly viewer: VerifiedViewer | undefined;
  readonly hub: Hub;
  readonly transport: OperationTransport;
  /** Rows this request may still read (MAX_ROWS_PER_REQUEST); list resolvers charge it. */
  readonly budget: RowBudget;
  /** `Last-Event-ID` sent by an SSE client that reconnects. */
  readonly lastEventId?: string;
  readonly stream?: StreamState;
}
