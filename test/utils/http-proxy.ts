/**
 * An HTTP proxy on 127.0.0.1 that passes requests through (streamed, so SSE works) and treats WebSocket upgrades
 * as corporate proxies do: `refuse` answers 403, `swallow` accepts the connection and never answers, `pass`
 * tunnels them. The mode can change while it runs. `failRequests` answers the next N plain requests with a
 * 503 GraphQL error instead of passing them on (a load balancer with no healthy backend).
 */
import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export type UpgradeMode = 'refuse' | 'swallow' | 'pass';

export interface HttpProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>/graphql` */
  readonly graphqlUrl: string;
  mode: UpgradeMode;
  /** How many of the next requests get a 503 without reaching Herald. */
  failRequests: number;
  /** Plain requests seen so far (passed on or failed). */
  readonly requests: number;
  /** Upgrade requests seen so far. */
  readonly upgrades: number;
  close(): Promise<void>;
}

export async function startHttpProxy(targetPort: number, mode: UpgradeMode): Promise<HttpProxy> {
  const sockets = new Set<Socket>();
  let upgrades = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (proxy.failRequests > 0) {
      proxy.failRequests--;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: 'no healthy upstream', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }));
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer: IncomingMessage) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const proxy: HttpProxy = {
    port: 0,
    graphqlUrl: '',
    mode,
    failRequests: 0,
    get requests() {
      return requests;
    },
    get upgrades() {
      return upgrades;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrades++;
    if (proxy.mode === 'refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    if (proxy.mode === 'swallow') return; // keep the socket open, answer nothing
    const upstream = connect(targetPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`, ...Object.entries(req.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)];
      upstream.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    sockets.add(upstream);
    const drop = () => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop).on('close', drop);
    socket.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(proxy, { port, graphqlUrl: `http://127.0.0.1:${port}/graphql` });
  return proxy;
}
