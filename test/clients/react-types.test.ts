/**
 * @herald/react's generated hooks, checked by the compiler: example components using every generated hook
 * compile as a browser app (DOM, JSX, no Node types), and each `@ts-expect-error` in
 * react-types/generated-hooks.tsx meets its error (a field a document did not select, a wrong enum value, a
 * missing required variable).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

describe('@herald/react types', () => {
  it('type-checks example components over the generated hooks, and rejects wrong fields and variables', async () => {
    const expected = readFileSync(`${ROOT}test/clients/react-types/generated-hooks.tsx`, 'utf8').match(/@ts-expect-error/g) ?? [];
    expect(expected.length).toBeGreaterThanOrEqual(10);
    const tsc = `${ROOT}node_modules/typescript/bin/tsc`;
    const result = await run(process.execPath, [tsc, '--noEmit', '-p', 'test/clients/react-types/tsconfig.json'], { cwd: ROOT, timeout: 90_000 }).catch(
      (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) }),
    );
    // An unused `@ts-expect-error` is itself an error (TS2578), so a clean run means each one met its error.
    expect(`${result.stdout}${result.stderr}`).toBe('');
  }, 100_000);
});
