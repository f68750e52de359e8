/**
 * GraphiQL at GET /graphql for browsers. The page is ~9 MB (bundle inline, no CDN), so it is rendered
 * once, compressed once (gzip and brotli) and served with an ETag and a cache lifetime: a reload costs a
 * 304, a first load ~1.5 MB. Off by default in production (GRAPHIQL).
 */
import { createHash } from 'node:crypto';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';

export interface GraphiQLPageOptions {
  readonly title: string;
  readonly defaultQuery: string;
  /** @default '/graphql' */
  readonly endpoint?: string;
  /** Browser cache lifetime in seconds. @default 3600 */
  readonly maxAgeSeconds?: number;
}

interface Page {
  readonly etag: string;
  readonly identity: Buffer;
  readonly gzip: Buffer;
  readonly br: Buffer;
}

function renderPage(options: GraphiQLPageOptions): Page {
  const html = renderGraphiQL({
    title: options.title,
    defaultQuery: options.defaultQuery,
    subscriptionsProtocol: 'SSE',
    endpoint: options.endpoint ?? '/graphql',
  } as Parameters<typeof renderGraphiQL>[0]);
  const identity = Buffer.from(html);
  return {
    etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`,
    identity,
    gzip: gzipSync(identity, { level: 9 }),
    br: brotliCompressSync(identity, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9 } }),
  };
}

/** True for a browser navigation to the endpoint (not a GET query, not an SSE subscription). */
export const wantsGraphiQL = (request: Request, url: URL) =>
  request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html') && !url.searchParams.has('query');

/** Serves the page; register before Yoga's own handling (Yoga's `graphiql` option stays off). */
export function useGraphiQLPage(options: GraphiQLPageOptions): Plugin {
  const endpoint = options.endpoint ?? '/graphql';
  const cacheControl = `public, max-age=${options.maxAgeSeconds ?? 3600}`;
  let page: Page | undefined; // rendered on the first visit: start-up stays fast
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint || !wantsGraphiQL(request, url)) return;
      page ??= renderPage(options);
      const headers: Record<string, string> = { etag: page.etag, 'cache-control': cacheControl, vary: 'accept-encoding' };
      if (request.headers.get('if-none-match') === page.etag) {
        endResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      const accepted = request.headers.get('accept-encoding') ?? '';
      const [body, encoding] = /\bbr\b/.test(accepted) ? [page.br, 'br'] : /\bgzip\b/.test(accepted) ? [page.gzip, 'gzip'] : [page.identity, undefined];
      if (encoding) headers['content-encoding'] = encoding;
      headers['content-type'] = 'text/html; charset=utf-8';
      headers['content-length'] = String(body.length);
      endResponse(new fetchAPI.Response(body as unknown as BodyInit, { status: 200, headers }));
    },
  };
}
