import type { Hub } from '../events/hub.js';
import type { VerifiedViewer } from '../auth/tokens.js';
import type { RowBudget } from './limits.js';
import type { ExecutionArgs } from 'graphql';
import type { LiveFeed } from '../events/stream.js';

/** Which transport carried the operation. */
export type OperationTransport = 'http' | 'sse' | 'websocket';

/** Per-stream state shared with the SSE result processor (it writes `id:` lines from it). */
export interface StreamState {
  /** Cursor of the event whose result is being sent (pull mode). */
  cursor?: string;
  /** The feed the subscription resolver opened, for a transport that pushes (see live-groups.ts). */
  feed?: LiveFeed;
  /** The subscription's execution arguments, kept by useLiveCapture for the transport. */
  args?: ExecutionArgs;
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
  /** Set by the live transports (SSE and WebSocket): where the subscription's feed and arguments are kept. */
  readonly stream?: StreamState;
}
