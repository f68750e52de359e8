/**
 * Limits on GraphQL documents, applied by the envelop pipeline that every transport shares (HTTP, SSE,
 * WebSocket): document size, tokens, depth, aliases, directives and cost (graphql-armor), field
 * suggestions off where configured, and one error contract for what the client got wrong: every parse,
 * validation and limit error carries `extensions.code` and HTTP 400 (413 for size), whatever the
 * `Accept` header (Yoga keeps 200 for `application/json` clients otherwise).
 */
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
>;

type Extensions = Record<string, unknown> & { http?: { status?: number; spec?: boolean } };

/** Gives a client error its code and a 4xx status that holds for every `Accept` header. */
function markClientError(error: GraphQLError, code: string, status = 400, extra: Record<string, unknown> = {}): void {
  const extensions = error.extensions as Extensions;
  if (!extensions['code'] || extensions['code'] === 'GRAPHQL_VALIDATION_FAILED') extensions['code'] = code;
  Object.assign(extensions, extra);
  extensions.http = { ...extensions.http, status, spec: false };
}

const tagged = (limit: string) => ({
  // Armor throws on rejection; tagging the error first keeps one code for every limit.
  onReject: [(_ctx: unknown, error: GraphQLError) => markClientError(error, 'QUERY_TOO_COMPLEX', 400, { limit })],
  propagateOnRejection: true,
  exposeLimits: true,
});

/** Refuses documents larger than `maxDocumentBytes` before the parser sees them. */
function useDocumentSize(maxBytes: number): Plugin {
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (source.length > maxBytes) {
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

/** The envelop plugins enforcing `limits`; register them with Yoga so WebSocket operations get them too. */
export function documentLimitPlugins(limits: DocumentLimits): Plugin[] {
  const plugins: Plugin[] = [
    useDocumentSize(limits.maxDocumentBytes),
    useClientErrorStatus(),
    maxTokensPlugin({ n: limits.maxTokens, ...tagged('maxTokens') }) as Plugin,
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, ...tagged('maxDepth') }) as Plugin,
    maxAliasesPlugin({ n: limits.maxAliases, ...tagged('maxAliases') }) as Plugin,
    maxDirectivesPlugin({ n: limits.maxDirectives, ...tagged('maxDirectives') }) as Plugin,
    costLimitPlugin({ maxCost: limits.maxCost, ignoreIntrospection: true, ...tagged('maxCost') }) as Plugin,
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
