/**
 * The notification centre's files (clients/web, built by `npm run build` into clients/web/dist) at `/app` and
 * `/app/*`: a path without a file extension that names no file gets index.html (the page routes itself), a
 * missing file with an extension gets a 404 JSON error, anything that would leave the directory (`..`, encoded
 * slashes, NUL) too. Hashed assets (`/app/assets/*`) are cached for a year; index.html is revalidated (ETag)
 * so a new build shows at the next load. Text files are gzipped once per version and kept. Until the page is
 * built, `/app` answers 503 saying how to build it. No authentication: the files are public, the token stays in
 * the URL fragment, which browsers never send.
 */
import { existsSync, promises as fs, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { writeError } from './error-response.js';

export interface AppStaticOptions {
  /** The built page. @default clients/web/dist of the checkout this module runs from */
  readonly dir?: string;
  /** URL prefix. @default '/app' */
  readonly prefix?: string;
}

export interface AppStatic {
  /** Whether the request is for the page (`/app`, `/app/…`), which `serve` then answers. */
  handles(req: IncomingMessage): boolean;
  serve(req: IncomingMessage, res: ServerResponse): void;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt', '.webmanifest']);
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** What the page may load and connect to: itself only (live traffic goes to this origin's /graphql). */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The checkout's clients/web/dist, from src/transport (tsx) or dist/src/transport (the build). */
export function defaultAppDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'clients', 'web', 'index.html'))) return join(dir, 'clients', 'web', 'dist');
    if (dirname(dir) === dir) return join(from, 'clients', 'web', 'dist');
  }
}

interface Gzipped {
  readonly key: string;
  readonly body: Buffer;
}

export function createAppStatic(options: AppStaticOptions = {}): AppStatic {
  const root = options.dir ?? defaultAppDir();
  const prefix = options.prefix ?? '/app';
  const gzipped = new Map<string, Gzipped>(); // one entry per file of the build: bounded by its size

  const notFound = (res: ServerResponse) => writeError(res, { status: 404, code: 'NOT_FOUND', message: 'No such file' });

  /** The file's path inside root, or null when the request names something outside it. */
  function resolve(pathname: string): string | null {
    const rest = pathname.slice(prefix.length).replace(/^\/+/, '');
    const parts: string[] = [];
    for (const raw of rest.split('/')) {
      if (raw === '') continue;
      let part: string;
      try {
        part = decodeURIComponent(raw);
      } catch {
        return null;
      }
      if (part === '.' || part === '..' || /[\\/\0]/.test(part)) return null;
      parts.push(part);
    }
    const file = join(root, ...parts);
    return file === root || file.startsWith(root + sep) ? file : null;
  }

  async function statFile(file: string): Promise<Stats | null> {
    try {
      const stats = await fs.stat(file);
      return stats.isFile() ? stats : null;
    } catch {
      return null;
    }
  }

  async function send(req: IncomingMessage, res: ServerResponse, file: string, stats: Stats, immutable: boolean) {
    const ext = extname(file).toLowerCase();
    const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'cache-control': immutable ? IMMUTABLE : 'no-cache',
      etag,
      'x-content-type-options': 'nosniff',
    };
    if (ext === '.html') Object.assign(headers, { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' });
    if (COMPRESSIBLE.has(ext)) headers['vary'] = 'Accept-Encoding';
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, headers).end();

    let body: Buffer = await fs.readFile(file);
    if (COMPRESSIBLE.has(ext) && body.length > 1024 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      const cached = gzipped.get(file);
      if (cached?.key === etag) body = cached.body;
      else {
        const zipped = gzipSync(body);
        gzipped.set(file, { key: etag, body: zipped });
        body = zipped;
      }
      headers['content-encoding'] = 'gzip';
    }
    headers['content-length'] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async function serve(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return writeError(res, { status: 405, code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed on ${prefix}` }, { allow: 'GET, HEAD' });
    }
    const index = join(root, 'index.html');
    const indexStats = await statFile(index);
    if (!indexStats) {
      const text = `Herald's notification centre is not built yet: run \`npm run build\` (it builds clients/web into ${root}), then reload.\n`;
      return void res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '30' }).end(req.method === 'HEAD' ? undefined : text);
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const file = resolve(pathname);
    if (file === null) return notFound(res);
    const stats = file === root ? null : await statFile(file);
    if (stats) return send(req, res, file, stats, file.startsWith(join(root, 'assets') + sep));
    // No such file: a route of the page (no extension) gets the page, a missing asset a 404.
    if (extname(file) !== '') return notFound(res);
    return send(req, res, index, indexStats, false);
  }

  return {
    handles(req) {
      const url = req.url ?? '';
      return url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`) || url.startsWith(`${prefix}#`);
    },
    serve(req, res) {
      serve(req, res).catch(() => {
        if (!res.headersSent) writeError(res, { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'Could not read the file' });
        else res.destroy();
      });
    },
  };
}
