/**
 * `npm run bench [-- --events 1000000 --stores sqlite,mongo --users 50000 --days 30 --samples 200
 *   --raw-events N --seed-timeout 3600 --export-format csv|json|ndjson --export-timeout 900 --only store|webhooks]`
 * Runs the store benchmark, then test/bench/webhooks.ts when it exists (it receives the same argv).
 * `npm run bench -- fanout [options]` runs the live fan-out benchmark instead (options: test/bench/fanout.ts);
 * `npm run bench -- heap [options]` shows where a live connection's heap goes (test/bench/heap-profile.ts);
 * `npm run bench -- cluster [options]` soaks two instances on one log and one Redis (test/bench/cluster.ts).
 * `npm run bench -- soak [options]` is the load and fault run: publishers, subscribers and webhooks while the server
 * is SIGKILLed and restarted, then ids compared; exits 1 on FAIL (test/bench/soak.ts).
 * `npm run bench -- event-size [--events 20000]` prints bytes per event on MongoDB and SQLite (test/bench/event-size.ts).
 * Each benchmark is imported only when it runs, so one never loads the other's modules.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const argv = process.argv.slice(2);

if (argv.includes('heap')) {
  const { main } = await import('./heap-profile.js');
  await main(argv);
  process.exit(0);
}

if (argv.includes('event-size')) {
  const { main } = await import('./event-size.js');
  await main(argv);
  process.exit(0);
}

if (argv.includes('soak')) {
  const { main } = await import('./soak.js');
  await main(argv);
  process.exit(process.exitCode ?? 0);
}

if (argv.includes('cluster')) {
  const { main } = await import('./cluster.js');
  await main(argv);
  process.exit(process.exitCode ?? 0);
}

if (argv.includes('fanout')) {
  const { main } = await import('./fanout.js');
  await main(argv);
  process.exit(0);
}

const { EXPORT_FORMATS } = await import('../../src/analytics/export.js');
const { runStoreBench } = await import('./store-bench.js');
type StoreKind = import('./store-bench.js').StoreKind;
type ExportFormat = import('../../src/analytics/export.js').ExportFormat;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    stores: { type: 'string', default: 'sqlite,mongo' },
    users: { type: 'string', default: '50000' },
    days: { type: 'string', default: '30' },
    samples: { type: 'string', default: '200' },
    'raw-events': { type: 'string' },
    'seed-timeout': { type: 'string', default: '3600' },
    'export-format': { type: 'string', default: 'csv' },
    'export-timeout': { type: 'string', default: '900' },
    only: { type: 'string' },
  },
  strict: false,
  allowPositionals: true,
});

const int = (name: string, value: unknown, min: number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${String(value)}`);
  return n;
};

const events = int('events', values.events, 1000);
const stores = String(values.stores).split(',').map((s) => s.trim()).filter(Boolean);
for (const store of stores) if (store !== 'sqlite' && store !== 'mongo') throw new Error(`--stores: unknown store ${store} (sqlite, mongo)`);
const format = String(values['export-format']);
if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new Error(`--export-format must be one of ${EXPORT_FORMATS.join(', ')}`);

if (values.only === undefined || values.only === 'store') {
  await runStoreBench({
    events,
    stores: stores as StoreKind[],
    users: int('users', values.users, 10),
    days: int('days', values.days, 1),
    samples: int('samples', values.samples, 10),
    rawEvents: values['raw-events'] === undefined ? events : int('raw-events', values['raw-events'], 1000),
    seedTimeoutSeconds: int('seed-timeout', values['seed-timeout'], 10),
    exportFormat: format as ExportFormat,
    exportTimeoutSeconds: int('export-timeout', values['export-timeout'], 1),
    log: (line) => console.log(line),
  });
}

const webhooksBench = new URL('./webhooks.ts', import.meta.url);
if ((values.only === undefined || values.only === 'webhooks') && existsSync(webhooksBench)) {
  console.log('\n--- webhooks benchmark ---');
  const module = (await import(webhooksBench.href)) as { main?: () => Promise<unknown>; run?: () => Promise<unknown> };
  await (module.main ?? module.run)?.();
}
