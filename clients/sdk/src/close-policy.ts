/**
 * What the client does when a live connection ends, by close code (README "Transports", clients/protocol):
 * resume at once (a restart, a slow-consumer cut, an expired token it can refresh), retry with backoff
 * (the network, a limit), or stop and say why (forbidden, revoked, a client bug).
 */
import { CloseCode, HeraldCloseCode } from '../../protocol/index.js';
import { LocalCloseCode, type CloseInfo } from './connection.js';

export type CloseAction =
  /** Reconnect without waiting for the first retry, resume from the last cursors. */
  | 'resume'
  /** Reconnect after a backoff delay. */
  | 'retry'
  /** Stop: reconnecting would get the same answer. */
  | 'stop';

/** Codes after which reconnecting cannot help. */
const STOP = new Set<number>([
  CloseCode.Forbidden, // 4403: the token's role may not connect
  HeraldCloseCode.SessionRevoked, // 4031: re-authenticate
  CloseCode.BadRequest, // 4400: a client bug
  CloseCode.SubprotocolNotAcceptable, // 4406
  CloseCode.SubscriberAlreadyExists, // 4409
  CloseCode.TooManyInitialisationRequests, // 4429
]);

const RESUME = new Set<number>([
  HeraldCloseCode.ServiceRestart, // 1012
  HeraldCloseCode.SlowConsumer, // 4030
  1001, // going away: the server is shutting down
]);

export function closeAction(info: CloseInfo, canRefreshToken: boolean): CloseAction {
  if (info.code === CloseCode.Unauthorized) return canRefreshToken ? 'resume' : 'stop';
  if (STOP.has(info.code)) return 'stop';
  if (RESUME.has(info.code)) return 'resume';
  return 'retry';
}

/**
 * Whether a failed WebSocket handshake looks like the WebSocket being blocked (a proxy that refuses or swallows
 * the upgrade) rather than the hub answering: `auto` then tries SSE at once.
 */
export function looksBlocked(info: CloseInfo): boolean {
  if (!info.beforeReady) return false;
  return info.code === LocalCloseCode.Abnormal || info.code === LocalCloseCode.AckTimeout || info.code === LocalCloseCode.Terminated || info.code === 1002 || info.code === 1005 || info.code === 1015;
}
