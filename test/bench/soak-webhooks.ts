/**
 * The soak run's webhook receivers: one HTTP server on 127.0.0.1 with a path per endpoint, checking every
 * delivery's Standard Webhooks signature with the secret the API returned (standardwebhooks' verifier), and
 * answering 503 to one request in `failEvery` so Herald's retries are part of the run. Records, per endpoint,
 * how many times each event id was accepted (answered 2xx).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface EndpointRecord {
  readonly ownerId: string;
  readonly path: string;
  secret: string;
  /** Event id -> times accepted with a 2xx. */
  readonly accepted: Map<string, number>;
  requests: number;
  /** 503s answered on purpose. */
  injectedFailures: number;
  /** Deliveries whose signature did not verify, or whose body id did not match `webhook-id`: each is a FAIL. */
  readonly badSignatures: string[];
}

export interface WebhookReceivers {
  readonly origin: string;
  /** Adds an endpoint path for `ownerId`; the secret is set once the API returned it. */
  add(ownerId: string): EndpointRecord;
  readonly endpoints: readonly EndpointRecord[];
  close(): Promise<void>;
}

export async function startWebhookReceivers(options: { failEvery: number }): Promise<WebhookReceivers> {
  const endpoints: EndpointRecord[] = [];
  const byPath = new Map<string, EndpointRecord>();
  const sockets = new Set<Socket>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const endpoint = byPath.get((req.url ?? '/').split('?')[0]!);
      if (!endpoint) {
        res.writeHead(404).end();
        return;
      }
      endpoint.requests++;
      if (options.failEvery > 0 && endpoint.requests % options.failEvery === 0) {
        endpoint.injectedFailures++;
        res.writeHead(503, { 'retry-after': '0' }).end('try again');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => String(req.headers[name] ?? '');
      let id: string;
      try {
        const payload = new Webhook(endpoint.secret).verify(body, {
          'webhook-id': header('webhook-id'),
          'webhook-timestamp': header('webhook-timestamp'),
          'webhook-signature': header('webhook-signature'),
        }) as { data?: { id?: string } };
        id = String(payload.data?.id);
        if (id !== header('webhook-id')) throw new Error(`body id ${id} is not webhook-id ${header('webhook-id')}`);
      } catch (error) {
        endpoint.badSignatures.push(`${header('webhook-id')}: ${(error as Error).message}`);
        res.writeHead(400).end('bad signature');
        return;
      }
      endpoint.accepted.set(id, (endpoint.accepted.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    endpoints,
    add(ownerId) {
      const record: EndpointRecord = { ownerId, path: `/hooks/${ownerId}`, secret: '', accepted: new Map(), requests: 0, injectedFailures: 0, badSignatures: [] };
      endpoints.push(record);
      byPath.set(record.path, record);
      return record;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
