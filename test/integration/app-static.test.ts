/**
 * /app's static files (src/transport/app-static.ts) over a real socket: the page and its routes, hashed assets
 * with long caching and gzip, revalidation, and everything that must not be served — paths out of the
 * directory however encoded, missing assets, other methods — and the 503 before the page is built.
 * Requests go through node:http so paths reach the server exactly as written (fetch would normalise `..`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppStatic, defaultAppDir } from '../../src/transport/app-static.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serve(dir: string): Promise<{ server: Server; port: number }> {
  const app = createAppStatic({ dir });
  const server = createServer((req, res) => {
    if (app.handles(req)) return app.serve(req, res);
    res.writeHead(418).end('not the app');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const root = mkdtempSync(join(tmpdir(), 'herald-app-static-'));
const dist = join(root, 'dist');
const INDEX = '<!doctype html><title>Herald</title><div id="root"></div>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;
let built: { server: Server; port: number };
let unbuilt: { server: Server; port: number };

beforeAll(async () => {
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-Ab12Cd34.js'), SCRIPT);
  writeFileSync(join(dist, 'assets', 'index-Ab12Cd34.css'), 'body{margin:0}');
  writeFileSync(join(root, 'secret.txt'), 'outside the build');
  built = await serve(dist);
  unbuilt = await serve(join(root, 'never-built'));
});

afterAll(async () => {
  await Promise.all([built, unbuilt].map(({ server }) => new Promise((r) => server.close(r))));
  rmSync(root, { recursive: true, force: true });
});

describe('/app static files', () => {
  it('answers /app, /app/ and routes of the page with index.html, revalidated and under a CSP', async () => {
    for (const path of ['/app', '/app/', '/app/deliveries/dlv_1', '/app?x=1']) {
      const answer = await get(built.port, path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers['cache-control']).toBe('no-cache');
      expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
      expect(answer.body.toString()).toBe(INDEX);
    }
  });

  it('serves hashed assets with their type, a year of caching, gzip when asked, and 304 for a known ETag', async () => {
    const plain = await get(built.port, '/app/assets/index-Ab12Cd34.js');
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.body.toString()).toBe(SCRIPT);
    expect(plain.headers['content-encoding']).toBeUndefined();

    const zipped = await get(built.port, '/app/assets/index-Ab12Cd34.js', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(SCRIPT.length / 4);
    expect(gunzipSync(zipped.body).toString()).toBe(SCRIPT);

    const css = await get(built.port, '/app/assets/index-Ab12Cd34.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');

    const again = await get(built.port, '/app/assets/index-Ab12Cd34.js', { headers: { 'if-none-match': String(plain.headers['etag']) } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);

    const head = await get(built.port, '/app/assets/index-Ab12Cd34.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(SCRIPT.length);
  });

  it('answers a missing asset with a 404 JSON error, not the page', async () => {
    const answer = await get(built.port, '/app/assets/index-gone.js');
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(answer.body.toString()).errors[0].extensions.code).toBe('NOT_FOUND');
  });

  it('never serves a file outside the build, however the path is written', async () => {
    for (const path of ['/app/../secret.txt', '/app/%2e%2e/secret.txt', '/app/..%2fsecret.txt', '/app/assets/..%5c..%5csecret.txt', '/app/%2e%2e%2f%2e%2e%2fsecret.txt', '/app/a%00b', '/app/%E0%A4%A']) {
      const answer = await get(built.port, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.toString(), path).not.toContain('outside the build');
    }
  });

  it('refuses other methods with 405 and Allow', async () => {
    const answer = await get(built.port, '/app', { method: 'POST' });
    expect(answer.status).toBe(405);
    expect(answer.headers['allow']).toBe('GET, HEAD');
    expect(JSON.parse(answer.body.toString()).errors[0].extensions.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('leaves other paths alone (/application, /apple) for the rest of the server', async () => {
    for (const path of ['/application', '/apple', '/graphql']) expect((await get(built.port, path)).status, path).toBe(418);
  });

  it('answers 503 saying to run npm run build before the page is built', async () => {
    const answer = await get(unbuilt.port, '/app');
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(answer.body.toString()).toContain('npm run build');
  });

  it('finds the checkout’s clients/web/dist from src/transport and from the build in dist/src/transport', () => {
    const checkout = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
    expect(defaultAppDir(join(checkout, 'src', 'transport'))).toBe(join(checkout, 'clients', 'web', 'dist'));
    expect(defaultAppDir(join(checkout, 'dist', 'src', 'transport'))).toBe(join(checkout, 'clients', 'web', 'dist'));
  });
});
