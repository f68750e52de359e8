/**
 * `npm run demo`: brings a running hub to life for a newcomer. Mints development tokens for a customer, a courier,
 * a supplier, an admin and the publishing services (signed like `npm run token`: JWT_SECRET, or the development
 * secret under DATA_DIR that `npm start` generated), prints them with `/app#token=…` links, then publishes the
 * marketplace story of demo/story.ts through @herald/sdk's typed publisher over about a minute, and exits.
 *
 *   npm run demo [-- --url http://127.0.0.1:4000/graphql] [--fast | --speed 4] [--json]
 *
 * `--fast` plays the minute in about a second (tests); `--json` ends with one JSON line listing what was published.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { signDevToken } from '../src/auth/tokens.js';
import { createHeraldPublisher, isHeraldError, type HeraldPublisher, type PublishedEvent } from '../clients/sdk/src/index.js';
import { demoStory, type DemoUsers } from './demo/story.js';

const usage = 'usage: npm run demo -- [--url http://127.0.0.1:4000/graphql] [--fast | --speed <n>] [--json]';

/** The demo's people: fixed ids, so the links printed by one run work for the next. */
const USERS: DemoUsers = { customer: 'cus_demo_mia', partner: 'dp_demo_jonas', supplier: 'sup_demo_pizzeria', admin: 'adm_demo_ops' };
const ROLE_OF = { customer: 'customer', partner: 'delivery_partner', supplier: 'supplier', admin: 'admin' } as const;
const LABEL = { customer: 'customer', partner: 'delivery partner', supplier: 'supplier', admin: 'admin' } as const;
/** `--fast`: the minute in about a second. */
const FAST_SPEED = 50;
const TOKEN_LIFETIME = '12h';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, fast: { type: 'boolean', default: false }, speed: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const speed = values.fast ? FAST_SPEED : values.speed ? Number(values.speed) : 1;
  if (!Number.isFinite(speed) || speed <= 0 || speed > 10_000) {
    console.error(`--speed must be a positive number. ${usage}`);
    return 2;
  }
  const config = loadConfig();
  if (!config.jwt.secret) {
    console.error('No JWT_SECRET to sign demo tokens with (deployments on JWT_PUBLIC_KEY mint tokens with their identity provider)');
    return 2;
  }
  const graphqlUrl = values.url ?? `http://127.0.0.1:${config.port}/graphql`;
  let base: URL;
  try {
    base = new URL('.', graphqlUrl.endsWith('/graphql') ? graphqlUrl : `${graphqlUrl.replace(/\/$/, '')}/graphql`);
  } catch {
    console.error(`--url: not a URL: ${graphqlUrl}. ${usage}`);
    return 2;
  }
  const origin = base.origin;

  try {
    const live = await fetch(`${origin}/health/live`, { signal: AbortSignal.timeout(3_000) });
    if (!live.ok) throw new Error(`HTTP ${live.status}`);
  } catch (error) {
    console.error(`Herald is not answering at ${origin} (${(error as Error).message}): start it with \`npm start\`, or pass --url.`);
    return 1;
  }

  const secret = config.jwt.secret;
  const sign = (sub: string, role: Parameters<typeof signDevToken>[1]['role']) => signDevToken(secret, { sub, role, expiresIn: TOKEN_LIFETIME });
  const run = Date.now().toString(36);
  const start = Date.now();
  const steps = demoStory(USERS, run, start);

  const log = values.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  log(`Herald demo against ${origin}/graphql (run ${run}, ${speed === 1 ? 'about a minute' : `${speed}x speed`})\n`);
  const users: Record<string, { userId: string; role: string; token: string; link: string }> = {};
  for (const who of Object.keys(USERS) as (keyof DemoUsers)[]) {
    const token = sign(USERS[who], ROLE_OF[who]);
    const link = `${origin}/app#token=${token}`;
    users[who] = { userId: USERS[who], role: ROLE_OF[who], token, link };
    log(`  ${LABEL[who].padEnd(17)} ${USERS[who]}\n    open: ${link}\n`);
  }
  const serviceToken = sign('orders-service', 'service');
  log(`  service           orders-service (publishes; other services get their own token)\n    token: ${serviceToken}\n`);

  const publishers = new Map<string, HeraldPublisher>();
  const publisherFor = (source: string) => {
    let publisher = publishers.get(source);
    if (!publisher) {
      const token = source === 'orders-service' ? serviceToken : sign(source, 'service');
      publishers.set(source, (publisher = createHeraldPublisher({ url: `${origin}/graphql`, token, source, maxRetries: 3 })));
    }
    return publisher;
  };

  const published: PublishedEvent[] = [];
  for (const step of steps) {
    await sleep(start + (step.at * 1000) / speed - Date.now());
    try {
      const events = await publisherFor(step.source).publishMany(step.items);
      published.push(...events);
      log(`  +${step.at.toFixed(1).padStart(4)}s  ${step.source.padEnd(17)} ${step.say} (${events.length} event${events.length === 1 ? '' : 's'})`);
    } catch (error) {
      const hint = isHeraldError(error) && error.status === 401 ? ' The hub refused the token: run the demo from the directory (and with the JWT_SECRET) `npm start` uses.' : '';
      console.error(`demo: publishing "${step.say}" failed: ${(error as Error).message}.${hint}`);
      return 1;
    }
  }
  log(`\nPublished ${published.length} events. Open a link above (or re-run \`npm run demo\`) to watch them arrive.`);
  if (values.json) {
    console.log(JSON.stringify({ run, users, published: published.map(({ id, type, userId, roles, source, cursor }) => ({ id, type, userId, roles, source, cursor })) }));
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error('demo failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
