/**
 * Limits on GraphQL documents, applied by the envelop pipeline that every transport shares (HTTP, SSE,
 * WebSocket): document size, tokens, depth, aliases, directives and cost (graphql-armor), field
 * suggestions off where configured, and one error contract for what the client got wrong: every parse,
 * validation and limit error carries `extensions.code` and HTTP 400 (413 for size), whatever the
 * `Accept` header (Yoga keeps 200 for `application/json` clients otherwise).
 */
import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import type { Limits } from '../config.js';
import { AppError, LimitError } from '../errors.js';

export type DocumentLimits = Pick<
  Limits,
  'fieldSuggestions' | 'maxDocumentBytes' | 'maxTokens' | 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'maxCost'
> & {
  /** Told of every operation refused by one of these limits, once per limit it broke (metrics). */
  readonly onRefused?: (limit: DocumentLimitName) => void;
};

/** The `limit` an error of these plugins names (`extensions.limit`, `details.limit`). */
export type DocumentLimitName = 'maxDocumentBytes' | 'maxTokens' | 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'maxCost';

type Extensions = Record<string, unknown> & { http?: { status?: number; spec?: boolean } };

/** Gives a client error its code and a 4xx status that holds for every `Accept` header. */
function markClientError(error: GraphQLError, code: string, status = 400, extra: Record<string, unknown> = {}): void {
  const extensions = error.extensions as Extensions;
  if (!extensions['code'] || extensions['code'] === 'GRAPHQL_VALIDATION_FAILED') extensions['code'] = code;
  Object.assign(extensions, extra);
  extensions.http = { ...extensions.http, status, spec: false };
}

const tagged = (limit: DocumentLimitName, onRefused?: (limit: DocumentLimitName) => void) => ({
  // Armor throws on rejection; tagging the error first keeps one code for every limit.
  onReject: [
    (_ctx: unknown, error: GraphQLError) => {
      markClientError(error, 'QUERY_TOO_COMPLEX', 400, { limit });
      onRefused?.(limit);
    },
  ],
  propagateOnRejection: true,
  exposeLimits: true,
});

/** Refuses documents larger than `maxDocumentBytes` before the parser sees them. */
function useDocumentSize(maxBytes: number, onRefused: (limit: DocumentLimitName) => void): Plugin {
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (source.length > maxBytes) {
        onRefused('maxDocumentBytes');
        throw new AppError('REQUEST_TOO_LARGE', 413, `Document is ${source.length} characters; the limit is ${maxBytes} (MAX_DOCUMENT_BYTES)`, {
          details: { limit: 'maxDocumentBytes' },
        });
      }
    },
  };
}

/** Parse and validation errors: `GRAPHQL_PARSE_FAILED` / `GRAPHQL_VALIDATION_FAILED` with HTTP 400. */
function useClientErrorStatus(): Plugin {
  return {
    onParse() {
      return ({ result }) => {
        if (result instanceof GraphQLError) markClientError(result, 'GRAPHQL_PARSE_FAILED');
      };
    },
    onValidate() {
      return ({ valid, result }) => {
        if (!valid) for (const error of result) markClientError(error, 'GRAPHQL_VALIDATION_FAILED');
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Refusal counting (metrics: herald_requests_refused_total). Every refused operation is counted, including the
// ones Yoga answers from its caches. The validation limits (depth, aliases, directives, cost) throw from the
// validation rule, so nothing caches them and their `onReject` counts each one (tagged above). A parse error
// (maxTokens) is cached by Yoga and re-thrown before any parse hook can look at it, so the documents refused at
// parse are remembered here (a hash each, bounded) and refused again, counted, before Yoga's cache is asked.

const REMEMBERED_PARSE_REFUSALS = 256;
const limitOf = (error: unknown): DocumentLimitName | undefined =>
  error instanceof GraphQLError ? ((error.extensions as { limit?: DocumentLimitName }).limit ?? undefined) : undefined;

function useParseRefusalCount(onRefused: (limit: DocumentLimitName) => void): Plugin {
  const refusedAtParse = new Map<string, GraphQLError>();
  const keyOf = (source: string) => createHash('sha256').update(source).digest('base64');
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      const key = refusedAtParse.size > 0 ? keyOf(source) : undefined;
      const known = key === undefined ? undefined : refusedAtParse.get(key);
      if (known) {
        onRefused(limitOf(known)!);
        throw known;
      }
      return ({ result }) => {
        const limit = limitOf(result);
        if (!limit) return;
        onRefused(limit);
        if (refusedAtParse.size >= REMEMBERED_PARSE_REFUSALS) refusedAtParse.delete(refusedAtParse.keys().next().value!);
        refusedAtParse.set(key ?? keyOf(source), result as GraphQLError);
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------

/** The envelop plugins enforcing `limits`; register them with Yoga so WebSocket operations get them too. */
export function documentLimitPlugins(limits: DocumentLimits): Plugin[] {
  const onRefused = limits.onRefused ?? (() => {});
  const plugins: Plugin[] = [
    useDocumentSize(limits.maxDocumentBytes, onRefused),
    ...(limits.onRefused ? [useParseRefusalCount(limits.onRefused)] : []),
    useClientErrorStatus(),
    // maxTokens refusals are counted by useParseRefusalCount (they are cached); the others as they happen.
    maxTokensPlugin({ n: limits.maxTokens, ...tagged('maxTokens') }) as Plugin,
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, ...tagged('maxDepth', limits.onRefused) }) as Plugin,
    maxAliasesPlugin({ n: limits.maxAliases, ...tagged('maxAliases', limits.onRefused) }) as Plugin,
    maxDirectivesPlugin({ n: limits.maxDirectives, ...tagged('maxDirectives', limits.onRefused) }) as Plugin,
    costLimitPlugin({ maxCost: limits.maxCost, ignoreIntrospection: true, ...tagged('maxCost', limits.onRefused) }) as Plugin,
  ];
  if (!limits.fieldSuggestions) plugins.push(blockFieldSuggestionsPlugin() as Plugin);
  return plugins;
}

/** Rows one request may still read; list resolvers charge it before touching the store. */
export interface RowBudget {
  /** Takes `rows` from the budget or throws QUERY_TOO_COMPLEX naming the limit. */
  charge(rows: number): void;
}

export function createRowBudget(maxRows: number): RowBudget {
  let left = maxRows;
  return {
    charge(rows) {
      if (rows > left) {
        throw new LimitError('QUERY_TOO_COMPLEX', `This request asks for more than ${maxRows} rows in all (MAX_ROWS_PER_REQUEST); ask for fewer or page with \`after\``, {
          details: { limit: 'maxRowsPerRequest' },
        });
      }
      left -= rows;
    },
  };
}
