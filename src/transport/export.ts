/**
 * `GET /export?from=&to=&format=json|ndjson|csv`: the event log as a download, for admins. Streamed: a page
 * is read from the store only when the previous one has been written to the socket (the response body is a
 * pull stream and the Node adapter waits for `drain`), so memory stays flat whatever the export's size.
 * A store failure after the first byte aborts the response, so the client sees an incomplete transfer.
 */
import type { Plugin } from 'graphql-yoga';
import type { EventStore } from '../events/event-store.js';
import { createCursorCodec } from '../events/cursor.js';
import type { HeraldEvent } from '../events/model.js';
import type { TokenVerifier } from '../auth/tokens.js';
import type { Logger } from '../log.js';
import { EXPORT_FORMATS, exportEncoding, exportPages, type ExportFormat, type ExportRange } from '../analytics/export.js';
import { ForbiddenError, isAppError, ValidationError, type AppError } from '../errors.js';
import { parseDateTime } from '../graphql/scalars.js';
import { missingCredentials, viewerFromRequest } from './auth.js';

export interface ExportOptions {
  readonly store: EventStore;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  /** Events read per store round trip. @default 1000 */
  readonly pageSize?: number;
  /** @default '/export' */
  readonly path?: string;
  /** @default Date.now */
  readonly now?: () => number;
}

interface ExportRequest extends ExportRange {
  readonly from: number | undefined;
  readonly to: number;
  readonly format: ExportFormat;
}

const invalid = (field: string, message: string) => new ValidationError(`${field}: ${message}`, { details: { field } });

function parseParams(url: URL, now: number): ExportRequest {
  const time = (name: 'from' | 'to'): number | undefined => {
    const value = url.searchParams.get(name);
    if (value === null || value === '') return undefined;
    try {
      return parseDateTime(value);
    } catch (error) {
      throw invalid(name, (error as Error).message);
    }
  };
  const format = url.searchParams.get('format') ?? 'json';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw invalid('format', `must be one of ${EXPORT_FORMATS.join(', ')}`);
  const from = time('from');
  // Without `to`, the export ends at the request: events published meanwhile are not chased.
  const to = time('to') ?? now;
  if (from !== undefined && to <= from) throw invalid('to', 'must be after from');
  return { from, to, format: format as ExportFormat };
}

function errorResponse(error: AppError, ResponseClass: typeof Response): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (error.status === 401) headers['www-authenticate'] = 'Bearer';
  const body = { error: { code: error.code, message: error.message, ...(error.details ?? {}) } };
  return new ResponseClass(JSON.stringify(body), { status: error.status, headers });
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:.]/g, '');

/** The export route as a Yoga plugin; register it through `createHttpHandler({ plugins })`. */
export function useExport(options: ExportOptions): Plugin {
  const path = options.path ?? '/export';
  const now = options.now ?? Date.now;
  const { store, verifier, logger } = options;
  const cursors = createCursorCodec(store.epoch);

  return {
    async onRequest({ request, url, endResponse, fetchAPI, serverContext }) {
      if (url.pathname !== path) return;
      if (request.method !== 'GET') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET' } }));
        return;
      }
      let params: ExportRequest;
      let pages: AsyncGenerator<HeraldEvent[]>;
      let first: IteratorResult<HeraldEvent[]>;
      try {
        const viewer = viewerFromRequest(request, verifier, { allowQueryToken: false });
        if (!viewer) throw missingCredentials();
        if (viewer.role !== 'admin') throw new ForbiddenError('/export is for admin tokens only');
        params = parseParams(url, now());
        pages = exportPages(store, params, options.pageSize);
        // The first page is read before answering, so an unreachable store is a 503, not a broken download.
        first = await pages.next();
      } catch (error) {
        if (!isAppError(error)) logger.error({ err: error }, 'export failed');
        endResponse(isAppError(error) ? errorResponse(error, fetchAPI.Response) : new fetchAPI.Response(null, { status: 500 }));
        return;
      }

      const encoding = exportEncoding(params.format, cursors);
      const encoder = new TextEncoder();
      let isFirst = true;
      let done = false;
      const body = new fetchAPI.ReadableStream<Uint8Array>({
        start(controller) {
          if (encoding.head) controller.enqueue(encoder.encode(encoding.head));
        },
        async pull(controller) {
          if (done) return;
          try {
            const next = isFirst ? first : await pages.next();
            if (next.done) {
              done = true;
              if (encoding.tail) controller.enqueue(encoder.encode(encoding.tail));
              controller.close();
              return;
            }
            controller.enqueue(encoder.encode(encoding.page(next.value, isFirst)));
            isFirst = false;
          } catch (error) {
            done = true;
            logger.error({ err: error }, 'export aborted: reading the event log failed');
            controller.error(error);
            // A 200 is already on the wire: only a broken connection tells the client the file is incomplete.
            (serverContext as { res?: { destroy(error?: Error): void } } | undefined)?.res?.destroy();
          }
        },
        async cancel() {
          done = true;
          await pages.return(undefined);
        },
      }, { highWaterMark: 1 });

      const name = `herald-events-${params.from === undefined ? 'start' : stamp(params.from)}-${stamp(params.to)}.${encoding.extension}`;
      endResponse(
        new fetchAPI.Response(body, {
          status: 200,
          headers: {
            'content-type': encoding.contentType,
            'content-disposition': `attachment; filename="${name}"`,
            'cache-control': 'no-store',
            'x-accel-buffering': 'no',
          },
        }),
      );
    },
  };
}
