/**
 * graphql-ws (subprotocol `graphql-transport-ws`) on the `ws` package, at /graphql on the HTTP
 * server's port. The token arrives in `connection_init` as `{ authorization: "Bearer <jwt>" }`:
 * missing/invalid/expired closes with 4401, a refused role with 4403, each with a reason. The
 * socket is closed with 4401 when the token expires while connected. Execution goes through
 * Yoga's envelop so error masking and plugins are the same as over HTTP.
 */
import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import type { ExecutionArgs } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import type { TokenVerifier, VerifiedViewer } from '../auth/tokens.js';
import type { Hub } from '../events/hub.js';
import type { Logger } from '../log.js';
import type { GraphQLContext } from '../graphql/context.js';
import { bearerToken } from '../auth/tokens.js';
import { isAppError } from '../errors.js';
import { withoutHttpExtensions } from '../graphql/errors.js';

export enum WsCloseCode {
  Unauthorized = 4401, // Server -> Client: missing, invalid or expired token
  Forbidden = 4403, // Server -> Client: the token's role may not connect
}

export type WsExtra = {
  viewer?: VerifiedViewer;
  release?: () => void;
  expiryTimer?: ReturnType<typeof setTimeout>;
};

export interface WsOptions {
  readonly server: Server;
  readonly yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  readonly hub: Hub;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  /** Ping interval; a peer that does not pong is dropped. @default 12000 */
  readonly keepAliveMs?: number;
}

/** Close reasons must fit in 123 bytes. */
const reason = (message: string) => Buffer.from(message).subarray(0, 120).toString();

export function attachWebSocket(options: WsOptions): { close(): Promise<void> } {
  const { yoga, hub, verifier, logger } = options;
  const wss = new WebSocketServer({ server: options.server, path: '/graphql', maxPayload: 1024 * 1024 });

  const disposable = useServer<Record<string, unknown>, WsExtra>(
    {
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onConnect(ctx) {
        const extra = ctx.extra as Extra & WsExtra;
        try {
          const raw = ctx.connectionParams?.['authorization'] ?? ctx.connectionParams?.['Authorization'];
          const token = bearerToken(typeof raw === 'string' ? raw : undefined);
          if (!token) {
            extra.socket.close(WsCloseCode.Unauthorized, 'Unauthorized: connection_init payload needs {"authorization":"Bearer <token>"}');
            return false;
          }
          const viewer = verifier.verify(token);
          extra.viewer = viewer;
          extra.release = hub.connections.open('websocket', viewer);
          if (viewer.expiresAt !== undefined) {
            const ms = viewer.expiresAt - Date.now();
            extra.expiryTimer = setTimeout(() => extra.socket.close(WsCloseCode.Unauthorized, 'Unauthorized: token expired'), Math.min(ms, 2 ** 31 - 1));
            extra.expiryTimer.unref?.();
          }
          return true;
        } catch (error) {
          if (!isAppError(error)) throw error;
          const code = error.status === 403 ? WsCloseCode.Forbidden : WsCloseCode.Unauthorized;
          extra.socket.close(code, reason(`${code === WsCloseCode.Forbidden ? 'Forbidden' : 'Unauthorized'}: ${error.message}`));
          return false;
        }
      },
      onNext: (_ctx, _id, _payload, _args, result) => withoutHttpExtensions(result) as never,
      onError: (_ctx, _id, _payload, errors) => withoutHttpExtensions({ errors }).errors as never,
      onClose(ctx) {
        const extra = ctx.extra as Extra & WsExtra;
        extra.release?.();
        if (extra.expiryTimer) clearTimeout(extra.expiryTimer);
      },
      async onSubscribe(ctx, _id, payload) {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        const args = {
          schema,
          operationName: payload.operationName,
          document: parse(payload.query),
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length) return errors;
        return args;
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  wss.on('error', (error) => logger.error({ err: error }, 'websocket server error'));

  return {
    async close() {
      for (const client of wss.clients) client.close(1001, 'Going away: server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
