/**
 * The README's configuration table is what operators read: it must list every environment variable the config
 * schema reads, and each default it states must be the one the code applies. Defaults are compared by value: the
 * README's text is parsed by the same schema entry (so `24h` and 86400000 agree), and defaults computed at load time
 * (NODE_ENV-dependent switches, the Redis channel) are compared with what loadConfig / the module produce.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, ENV_OPTIONS, loadConfig } from '../../src/config.js';
import { DEFAULT_CHANNEL } from '../../src/bus/redis-bus.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Rows of the table under "## Configuration": variable names (the code spans of the first cell) and the default cell. */
function configurationRows(): Array<{ names: string[]; defaultCell: string }> {
  const section = README.slice(README.indexOf('\n## Configuration'));
  const table = section.slice(0, section.indexOf('\n## ', 5)).split('\n').filter((line) => line.startsWith('| `'));
  return table.map((line) => {
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    return { names: [...cells[0]!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!), defaultCell: cells[1]! };
  });
}

/** The first code span of a cell, or undefined (`—`, "unset", "generated in development"). */
const firstCode = (cell: string) => /^`([^`]*)`/.exec(cell)?.[1];

const dev = () => loadConfig({ JWT_SECRET: 'x', NODE_ENV: 'development' });
/** Defaults applied at load time or by a module, not by the schema: what the code yields for each. */
const DERIVED: Record<string, () => string> = {
  GRAPHIQL: () => String(dev().graphiql),
  FIELD_SUGGESTIONS: () => String(dev().limits.fieldSuggestions),
  PUBLIC_INTROSPECTION: () => String(dev().publicIntrospection),
  LOG_LEVEL: () => dev().logLevel,
  REDIS_CHANNEL: () => DEFAULT_CHANNEL,
};

describe('README configuration table', () => {
  const rows = configurationRows();
  const documented = new Map(rows.flatMap((row) => row.names.map((name) => [name, row.defaultCell] as const)));
  const options = Object.keys(ENV_OPTIONS);

  it('has a row for every environment variable the config reads, and none for a variable it does not', () => {
    expect(rows.length).toBeGreaterThan(30);
    expect(options.filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented.keys()].filter((name) => !options.includes(name))).toEqual([]);
  });

  it.each(options)('%s: the default the README states is the one the code applies', (name) => {
    const cell = documented.get(name);
    expect(cell, `${name} has no README row`).toBeDefined();
    const stated = firstCode(cell!);
    const schemaDefault = (DEFAULTS as Record<string, unknown>)[name];
    const hasSchemaDefault = schemaDefault !== undefined && !(Array.isArray(schemaDefault) && schemaDefault.length === 0);
    if (hasSchemaDefault) {
      expect(stated, `${name}: the README should state the default ${JSON.stringify(schemaDefault)}`).toBeDefined();
      const parsed = (ENV_OPTIONS as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>)[name]!.safeParse(stated);
      expect(parsed.success, `${name}: README default ${stated} is not a valid value`).toBe(true);
      expect(parsed.data, `${name}: README says ${stated}`).toEqual(schemaDefault);
    } else if (name in DERIVED) {
      expect(stated, name).toBe(DERIVED[name]!());
    } else if (name === 'INSTANCE_ID') {
      // `<hostname>-<pid>-<random>`: the shape of the generated id.
      const shape = new RegExp(`^${stated!.replace('<hostname>', hostname().replace(/[^\w.-]/g, '_')).replace('<pid>', String(process.pid)).replace('<random>', '[0-9a-f]+')}$`);
      expect(dev().instanceId).toMatch(shape);
    } else {
      // No default: the README must not claim one.
      expect(stated, `${name}: the README states a default the code does not apply`).toBeUndefined();
    }
  });
});
