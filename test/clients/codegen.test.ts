/** Generated code must match schema/: the committed files are what `npm run codegen` would write now. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../codegen.ts';
import { EVENT_FRAGMENTS } from '../../clients/sdk/src/generated/events.js';
import { loadConfig } from '../../src/config.js';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('generated code', () => {
  it('is up to date with schema/ (run `npm run codegen` when this fails)', async () => {
    const outputs = (await generate({ ...config, cwd: ROOT, silent: true }, false)) as Array<{ filename: string; content: string }>;
    expect(outputs.length).toBe(Object.keys(config.generates).length);
    for (const output of outputs) {
      const committed = readFileSync(join(ROOT, output.filename), 'utf8');
      expect(committed, `${output.filename} is stale: run npm run codegen`).toBe(output.content);
    }
  }, 60_000);

  it("keeps the SDK's all-types subscription within the hub's default MAX_ALIASES", () => {
    // Fields whose type differs between event types are aliased; `on('*')` selects every fragment.
    const aliases = Object.values(EVENT_FRAGMENTS).join('').match(/\w+__\w+:/g) ?? [];
    const limit = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) }).limits.maxAliases;
    expect(aliases.length, 'a schema change added aliased fields: rename the field or raise MAX_ALIASES').toBeLessThanOrEqual(limit);
  });
});
