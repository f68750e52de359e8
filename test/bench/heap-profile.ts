/**
 * Where a live connection's heap goes: `npm run bench -- heap [--connections 2000] [--transports ws,sse]
 *   [--servers herald,raw] [--top 25] [--keep] [--runtime build|tsx]`.
 * Starts the server (test/bench/serve.ts, or the raw baseline) in its own process, takes a V8 heap snapshot with no
 * connection and one with N idle subscribed connections (the fan-out benchmark's load process opens them), and
 * prints, per object kind (constructor name, or closure / array / string …), how many more objects and bytes each
 * connection costs, largest first. The snapshots are removed unless --keep.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { JWT_SECRET, startLoad, startServer, type ServerKind, type Transport } from './fanout-servers.js';
import { table } from './stats.js';
import { buildHerald } from './build.js';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per kind: objects by constructor name, everything else by node type. */
function histogram(path: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const byKind = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const name = snap.strings[snap.nodes[i + nameAt]!]!;
    const kind =
      type === 'object' || type === 'native' ? name : type === 'closure' ? `closure ${name || '(anonymous)'}` : type === 'array' || type === 'hidden' || type === 'code' ? `(${type}) ${name.slice(0, 40)}` : `(${type})`;
    const entry = byKind.get(kind) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt]!;
    byKind.set(kind, entry);
  }
  return byKind;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'heap'),
    options: {
      connections: { type: 'string', default: '2000' },
      transports: { type: 'string', default: 'ws,sse' },
      servers: { type: 'string', default: 'herald' },
      top: { type: 'string', default: '25' },
      keep: { type: 'boolean', default: false },
      runtime: { type: 'string', default: 'build' },
    },
    strict: true,
  });
  const n = Number(values.connections);
  const top = Number(values.top);
  const env: Record<string, string> = values.runtime === 'tsx' ? { CONNECTION_RATE_PER_IP: '0' } : { CONNECTION_RATE_PER_IP: '0', BENCH_HERALD_DIST: buildHerald(fileURLToPath(new URL('../../src', import.meta.url))) };
  for (const kind of String(values.servers).split(',') as ServerKind[]) {
    for (const transport of String(values.transports).split(',') as Transport[]) {
      const server = await startServer(kind, { env });
      const load = await startLoad();
      const files = [join(tmpdir(), `herald-heap-${kind}-${transport}-0.heapsnapshot`), join(tmpdir(), `herald-heap-${kind}-${transport}-${n}.heapsnapshot`)] as const;
      try {
        await server.snapshot(files[0]);
        const answer = await load.connect({ server: kind, transport, origin: server.url, secret: JWT_SECRET, from: 0, to: n, admins: 0 });
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await server.snapshot(files[1]);
        const before = histogram(files[0]);
        const after = histogram(files[1]);
        const rows = [...after]
          .map(([name, a]) => ({ name, count: a.count - (before.get(name)?.count ?? 0), bytes: a.bytes - (before.get(name)?.bytes ?? 0) }))
          .filter((r) => r.bytes > 0)
          .sort((x, y) => y.bytes - x.bytes);
        const total = rows.reduce((sum, r) => sum + r.bytes, 0) - [...before].reduce((s, [name, b]) => s + (after.has(name) ? 0 : b.bytes), 0);
        console.log(`\n${kind} ${transport}: ${answer.connected} connections, ${(total / answer.connected).toFixed(0)} B of heap each (snapshot self sizes)`);
        console.log(
          table([
            ['kind', 'objects / conn', 'bytes / conn'],
            ...rows.slice(0, top).map((r) => [r.name.slice(0, 60), (r.count / answer.connected).toFixed(2), (r.bytes / answer.connected).toFixed(0)]),
          ]),
        );
      } finally {
        await load.close().catch(() => {});
        load.stop();
        await server.stop();
        if (!values.keep) for (const file of files) rmSync(file, { force: true });
      }
    }
  }
}
