/**
 * Herald's wire protocol constants, shared by the server and the clients (clients never import `src/`).
 * WebSocket close codes: graphql-ws's own `CloseCode` where it has one (4400 bad request, 4401 unauthorized,
 * 4403 forbidden, 4406, 4408, 4409, 4429, 4500), and Herald's below for what graphql-ws does not name.
 */
export { CloseCode } from 'graphql-ws';

export enum HeraldCloseCode {
  /** Server -> Client: standard "service restart": reconnect (elsewhere) and resume from your last cursor. */
  ServiceRestart = 1012,
  /** Server -> Client: the instance (503) or this user (429) has reached its connection limit; retry later. */
  TooManyConnections = 4029,
  /** Server -> Client: the connection fell too far behind; reconnect and resume from your last cursor. */
  SlowConsumer = 4030,
  /** Server -> Client: the session was closed on purpose (the user's sessions were revoked). */
  SessionRevoked = 4031,
  /**
   * Server -> Client: the connection kept sending `subscribe` messages over its budget (SUBSCRIBE_RATE_PER_CONNECTION)
   * after RATE_LIMITED errors (100 refusals within 10 s); back off before reconnecting.
   */
  RateLimited = 4032,
}

/** The final SSE event (`event: error`) a stream ends with when the server closes it; `data` is JSON. */
export const SSE_CLOSE_EVENT = 'error';

export interface SseCloseData {
  /** The WebSocket close code this corresponds to (e.g. 4401 for an expired token). */
  readonly code: number;
  readonly reason: string;
}
