/**
 * The SDK's types, checked by the compiler: the SDK compiles without DOM or Node types (isomorphic core), and
 * every `@ts-expect-error` in types/publish-payloads.ts meets its error (a wrong payload field fails to compile).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

describe('@herald/sdk types', () => {
  it('rejects wrong publish payloads at compile time, and builds without DOM or Node types', async () => {
    const tsc = `${ROOT}node_modules/typescript/bin/tsc`;
    const result = await run(process.execPath, [tsc, '--noEmit', '-p', 'test/clients/types/tsconfig.json'], { cwd: ROOT, timeout: 90_000 }).catch(
      (error: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? String(error), code: error.code }),
    );
    expect(`${result.stdout}${result.stderr}`).toBe('');
  }, 100_000);
});
