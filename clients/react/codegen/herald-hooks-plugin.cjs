/**
 * GraphQL Code Generator plugin for @herald/react: one React hook per query in clients/react/documents/,
 * `useXxxQuery(variables, options)` over `useHeraldQuery` (../use-herald-query.js), typed end to end by the
 * client preset's `XxxDocument` / `XxxQuery` / `XxxQueryVariables` (./graphql.js). Variables are optional when
 * the operation has no required variable (non-null and without a default).
 *
 * Operation names must be PascalCase without a `Query` suffix (`EventsLog` -> `useEventsLogQuery`), so the
 * names here are the ones the client preset derives, without re-implementing its naming convention.
 */
'use strict';

module.exports = {
  plugin(_schema, documents, config) {
    const runtime = config.runtimeModule || '../use-herald-query.js';
    const types = config.typesModule || './graphql.js';
    const operations = documents
      .flatMap((source) => source.document?.definitions ?? [])
      .filter((node) => node.kind === 'OperationDefinition')
      .sort((a, b) => (a.name?.value ?? '').localeCompare(b.name?.value ?? ''));
    const hooks = [];
    const imports = [];
    for (const op of operations) {
      const name = op.name?.value;
      if (!name || !/^[A-Z][A-Za-z0-9]*$/.test(name) || /Query$/.test(name)) {
        throw new Error(`herald-hooks-plugin: operation names must be PascalCase without a "Query" suffix, got ${JSON.stringify(name)}`);
      }
      if (op.operation !== 'query') continue; // mutations and subscriptions: client.query / client.on
      const required = (op.variableDefinitions ?? []).some((v) => v.type.kind === 'NonNullType' && !v.defaultValue);
      const data = `${name}Query`;
      const vars = `${name}QueryVariables`;
      imports.push(`${name}Document`, data, vars);
      hooks.push(
        [
          `/** \`${name}\` (clients/react/documents/): ${required ? 'variables required' : 'variables optional'}. */`,
          `export function use${name}Query(variables${required ? '' : '?'}: ${vars}, options?: HeraldQueryOptions<${data}>): HeraldQueryResult<${data}> {`,
          `  return useHeraldQuery(${name}Document, variables ?? ({} as ${vars}), options);`,
          '}',
        ].join('\n'),
      );
    }
    const valueImports = imports.filter((n) => n.endsWith('Document'));
    const typeImports = imports.filter((n) => !n.endsWith('Document'));
    return [
      `import { useHeraldQuery, type HeraldQueryOptions, type HeraldQueryResult } from '${runtime}';`,
      `import { ${valueImports.join(', ')} } from '${types}';`,
      `import type { ${typeImports.join(', ')} } from '${types}';`,
      '',
      hooks.join('\n\n'),
      '',
    ].join('\n');
  },
};
