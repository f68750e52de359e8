/**
 * The connection indicator: live, live on the SSE fallback (a proxy blocks WebSocket), connecting,
 * reconnecting (with the attempt number), or offline with the reason the hub gave. A polite live region, so
 * a screen reader hears when the connection drops and comes back.
 */
import { useHeraldStatus } from '@herald/react';
import type { HeraldClientStatus } from '@herald/sdk';

export function describeStatus(status: HeraldClientStatus): { label: string; tone: 'live' | 'warn' | 'down' | 'idle'; detail: string } {
  const detail = [status.transport && `via ${status.transport === 'sse' ? 'SSE' : 'WebSocket'}`, status.lastCursor && `cursor ${status.lastCursor}`].filter(Boolean).join(', ');
  switch (status.state) {
    case 'connected':
      return status.fallback ? { label: 'Live · SSE fallback', tone: 'warn', detail: `WebSocket is blocked here; live over SSE. ${detail}` } : { label: 'Live', tone: 'live', detail };
    case 'connecting':
      return { label: 'Connecting…', tone: 'idle', detail };
    case 'reconnecting':
      return { label: status.reconnectAttempts > 1 ? `Reconnecting… (try ${status.reconnectAttempts})` : 'Reconnecting…', tone: 'warn', detail: status.error?.message ?? detail };
    default:
      return status.error ? { label: 'Offline', tone: 'down', detail: status.error.message } : { label: 'Idle', tone: 'idle', detail };
  }
}

export function ConnectionIndicator() {
  const status = useHeraldStatus();
  const { label, tone, detail } = describeStatus(status);
  return (
    <p className={`connection connection--${tone}`} role="status" title={detail} data-state={status.state} data-transport={status.transport ?? ''}>
      <span className="connection__dot" aria-hidden="true" />
      <span className="visually-hidden">Connection: </span>
      {label}
    </p>
  );
}
