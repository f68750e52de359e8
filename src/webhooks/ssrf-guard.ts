/**
 * SSRF guard for supplier webhook URLs.
 *
 * Two checks, because one is not enough:
 * - {@link assertSafeWebhookUrl} at registration (and, cheaply, before each delivery): scheme, credentials,
 *   and every address the host resolves to must be public.
 * - {@link createGuardedLookup} at connect time, passed as `lookup` to the http/https Agent, so a host that
 *   re-resolves to an internal address after registration (DNS rebinding) is still refused.
 *
 * Addresses are classified by our own exact parsing (not string prefixes), including IPv4 embedded in
 * IPv4-mapped, NAT64 and 6to4 IPv6 addresses.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { UnsafeUrlError } from '../errors.js';

/** Which URLs a webhook endpoint may use. Both relaxations are for local development only. */
export interface UrlPolicy {
  /**
   * Accept plain `http:` URLs as well as `https:`.
   * @default false
   */
  readonly allowHttp?: boolean;
  /**
   * Skip the address check entirely (loopback, private, link-local... all accepted).
   * @default false
   */
  readonly allowPrivateNetworks?: boolean;
}

/** Resolves a host name to all its addresses. Injected so tests never touch real DNS. */
export type LookupFn = (hostname: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;

/** The outcome of {@link classifyAddress}; `range` names the refused range, e.g. `private, 10.0.0.0/8`. */
export interface AddressClassification {
  readonly allowed: boolean;
  readonly range?: string;
}

/** All addresses of `hostname`, unsorted, via the system resolver (`getaddrinfo`, so `/etc/hosts` applies). */
export const defaultLookup: LookupFn = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

// ---------------------------------------------------------------------------------------------------------
// Address classification

interface V4Range {
  readonly base: number;
  readonly mask: number;
  readonly range: string;
}

interface V6Range {
  readonly base: bigint;
  readonly mask: bigint;
  readonly range: string;
}

const parseIPv4 = (ip: string): number | undefined => {
  if (isIP(ip) !== 4) return undefined;
  return ip.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
};

const formatIPv4 = (n: number): string => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');

const parseIPv6 = (ip: string): bigint | undefined => {
  // A zone id (`fe80::1%eth0`) scopes the address to an interface; it does not change its range.
  let text = ip.split('%', 1)[0] ?? '';
  if (isIP(text) !== 6) return undefined;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  const toGroups = (part: string | undefined): string[] => (part ? part.split(':') : []);
  const head = toGroups(halves[0]);
  const rest = toGroups(halves[1]);
  const groups =
    halves.length === 2 ? [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
};

const v4Range = (cidr: string, label: string): V4Range => {
  const [address = '', bits = ''] = cidr.split('/');
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return { base: ((parseIPv4(address) ?? 0) & mask) >>> 0, mask, range: `${label}, ${cidr}` };
};

const ALL_V6 = (1n << 128n) - 1n;

const v6Range = (cidr: string, label: string): V6Range => {
  const [address = '', bits = ''] = cidr.split('/');
  const mask = ALL_V6 ^ ((1n << BigInt(128 - Number(bits))) - 1n);
  return { base: (parseIPv6(address) ?? 0n) & mask, mask, range: `${label}, ${cidr}` };
};

/** Non-public IPv4 ranges (IANA special-purpose registry, plus everything not unicast). */
const V4_REFUSED: readonly V4Range[] = [
  v4Range('0.0.0.0/8', '"this network"'),
  v4Range('10.0.0.0/8', 'private'),
  v4Range('100.64.0.0/10', 'shared address space (CGNAT)'),
  v4Range('127.0.0.0/8', 'loopback'),
  v4Range('169.254.0.0/16', 'link-local (cloud metadata)'),
  v4Range('172.16.0.0/12', 'private'),
  v4Range('192.0.0.0/24', 'IETF protocol assignments'),
  v4Range('192.0.2.0/24', 'documentation (TEST-NET-1)'),
  v4Range('192.88.99.0/24', '6to4 relay anycast'),
  v4Range('192.168.0.0/16', 'private'),
  v4Range('198.18.0.0/15', 'benchmarking'),
  v4Range('198.51.100.0/24', 'documentation (TEST-NET-2)'),
  v4Range('203.0.113.0/24', 'documentation (TEST-NET-3)'),
  v4Range('224.0.0.0/4', 'multicast'),
  // More specific than 240/4, so it must come first.
  v4Range('255.255.255.255/32', 'limited broadcast'),
  v4Range('240.0.0.0/4', 'reserved'),
];

const UNSPECIFIED = v6Range('::/128', 'unspecified');
const LOOPBACK = v6Range('::1/128', 'loopback');
const IPV4_MAPPED = v6Range('::ffff:0:0/96', 'IPv4-mapped');
const NAT64 = v6Range('64:ff9b::/96', 'NAT64');
const SIX_TO_FOUR = v6Range('2002::/16', '6to4');
const GLOBAL_UNICAST = v6Range('2000::/3', 'global unicast');

/** Non-public IPv6 ranges checked after the ones that embed an IPv4 address. */
const V6_REFUSED: readonly V6Range[] = [
  v6Range('64:ff9b:1::/48', 'local-use NAT64'),
  // Deprecated IPv4-compatible addresses (`::a00:1`); nothing public lives here.
  v6Range('::/96', 'IPv4-compatible (deprecated)'),
  v6Range('100::/64', 'discard-only'),
  v6Range('2001:db8::/32', 'documentation'),
  // Includes Teredo (2001::/32); none of its sub-allocations is a legitimate webhook target.
  v6Range('2001::/23', 'IETF protocol assignments'),
  v6Range('3fff::/20', 'documentation'),
  v6Range('fc00::/7', 'unique local (ULA)'),
  v6Range('fe80::/10', 'link-local'),
  v6Range('fec0::/10', 'site-local (deprecated)'),
  v6Range('ff00::/8', 'multicast'),
];

const inV6 = (address: bigint, r: V6Range): boolean => (address & r.mask) === r.base;

const classifyV4 = (address: number): AddressClassification => {
  const hit = V4_REFUSED.find((r) => ((address & r.mask) >>> 0) === r.base);
  return hit ? { allowed: false, range: hit.range } : { allowed: true };
};

/** Classifies the IPv4 address carried inside an IPv6 one, naming both ranges when it is refused. */
const classifyEmbedded = (v4: number, via: V6Range): AddressClassification => {
  const inner = classifyV4(v4);
  return inner.allowed
    ? inner
    : { allowed: false, range: `${inner.range ?? ''}, embedded as ${formatIPv4(v4)} in ${via.range}` };
};

const classifyV6 = (address: bigint): AddressClassification => {
  if (address === UNSPECIFIED.base) return { allowed: false, range: UNSPECIFIED.range };
  if (address === LOOPBACK.base) return { allowed: false, range: LOOPBACK.range };
  if (inV6(address, IPV4_MAPPED)) return classifyEmbedded(Number(address & 0xffffffffn), IPV4_MAPPED);
  if (inV6(address, NAT64)) return classifyEmbedded(Number(address & 0xffffffffn), NAT64);
  if (inV6(address, SIX_TO_FOUR)) {
    const embedded = classifyEmbedded(Number((address >> 80n) & 0xffffffffn), SIX_TO_FOUR);
    if (!embedded.allowed) return embedded;
  }
  const hit = V6_REFUSED.find((r) => inV6(address, r));
  if (hit) return { allowed: false, range: hit.range };
  // Only 2000::/3 is allocated for global unicast; everything else is reserved by the IETF.
  if (!inV6(address, GLOBAL_UNICAST)) return { allowed: false, range: 'reserved, outside global unicast 2000::/3' };
  return { allowed: true };
};

/**
 * Says whether `ip` (IPv4 or IPv6 text, optionally with a `%zone`) is a public unicast address a webhook
 * may be delivered to; when it is not, `range` names the range it falls in (e.g. `private, 10.0.0.0/8`).
 * Text that is not an IP address is refused with `range: 'not an IP address'`.
 */
export function classifyAddress(ip: string): AddressClassification {
  const v4 = parseIPv4(ip);
  if (v4 !== undefined) return classifyV4(v4);
  const v6 = parseIPv6(ip);
  if (v6 !== undefined) return classifyV6(v6);
  return { allowed: false, range: 'not an IP address' };
}

/** `true` when `ip` is a public unicast address (see {@link classifyAddress}). */
export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip).allowed;
}

// ---------------------------------------------------------------------------------------------------------
// URL and connect-time checks

/** Host of a parsed URL without the brackets of an IPv6 literal. */
const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

const refuseAddress = (host: string, address: string, range: string | undefined): UnsafeUrlError =>
  new UnsafeUrlError(
    host === address
      ? `webhook host ${host} is a non-public address (${range ?? 'unknown'}): refused`
      : `webhook host "${host}" resolves to ${address} (${range ?? 'unknown'}): refused`,
    { details: { host, address, range } },
  );

/**
 * Resolves `host` (or takes it as-is when it is an IP literal) and refuses, with an {@link UnsafeUrlError},
 * if ANY of its addresses is non-public. Lookup failures are re-thrown untouched.
 */
const resolvePublic = async (
  host: string,
  policy: UrlPolicy,
  lookup: LookupFn,
): Promise<Array<{ address: string; family: 4 | 6 }>> => {
  const literal = isIP(host);
  const answers: Array<{ address: string; family: 4 | 6 }> =
    literal === 0 ? await lookup(host) : [{ address: host, family: literal === 6 ? 6 : 4 }];
  if (policy.allowPrivateNetworks) return answers;
  for (const { address } of answers) {
    const { allowed, range } = classifyAddress(address);
    if (!allowed) throw refuseAddress(host, address, range);
  }
  return answers;
};

/**
 * Checks a webhook URL before it is stored or used: it must parse, use `https:` (or `http:` when
 * `policy.allowHttp`), carry no credentials, name a host, and that host must be, or resolve only to,
 * public addresses (unless `policy.allowPrivateNetworks`, which also skips DNS).
 *
 * A host with one public and one private address is refused: the client may connect to either.
 *
 * @returns the parsed URL.
 * @throws {UnsafeUrlError} on any failed check, including a DNS failure (the resolver error is the `cause`).
 *   Messages never echo the full URL, which may hold a token in its query.
 * @example
 *   const url = await assertSafeWebhookUrl('https://hooks.supplier.example/herald', config.webhooks);
 */
export async function assertSafeWebhookUrl(
  url: string,
  policy: UrlPolicy = {},
  lookup: LookupFn = defaultLookup,
): Promise<URL> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new UnsafeUrlError('webhook URL is not a valid URL', { cause });
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && policy.allowHttp)) {
    const allowed = policy.allowHttp ? 'https: or http:' : 'https: only';
    throw new UnsafeUrlError(`webhook URL scheme "${parsed.protocol}" is not allowed (${allowed}): refused`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new UnsafeUrlError('webhook URL must not contain credentials (user:password@): refused');
  }
  const host = bareHost(parsed);
  if (host === '') throw new UnsafeUrlError('webhook URL has no host: refused');
  if (policy.allowPrivateNetworks) return parsed;

  try {
    const answers = await resolvePublic(host, policy, lookup);
    if (answers.length === 0) throw new UnsafeUrlError(`webhook host "${host}" resolves to no address: refused`);
  } catch (error) {
    if (error instanceof UnsafeUrlError) throw error;
    const code = (error as { code?: unknown } | null)?.code;
    throw new UnsafeUrlError(
      `webhook host "${host}" could not be resolved${typeof code === 'string' ? ` (${code})` : ''}: refused`,
      { cause: error },
    );
  }
  return parsed;
}

const toFamily = (family: LookupOptions['family']): 0 | 4 | 6 =>
  family === 4 || family === 'IPv4' ? 4 : family === 6 || family === 'IPv6' ? 6 : 0;

/**
 * A `lookup` for Node's `net.connect` / `tls.connect`, which re-checks addresses at connect time so DNS
 * rebinding between registration and delivery is still caught. It MUST be passed as the `lookup` option of
 * the http/https Agent (or request) that delivers webhooks:
 *
 * @example
 *   const agent = new https.Agent({ keepAlive: true, lookup: createGuardedLookup(config.webhooks) });
 *
 * Honours `options.family` and both shapes of `options.all` (array of `{ address, family }`, or a single
 * `address, family` pair). Refusal is reported through the callback as an {@link UnsafeUrlError}, which the
 * request then emits as its `'error'`; a resolver failure (`ENOTFOUND`...) is passed through untouched so it
 * stays a retryable network error.
 *
 * Node does not call `lookup` for IP-literal hosts, so keep calling {@link assertSafeWebhookUrl} before
 * delivery too. Global `fetch` (undici) takes no `lookup`; use an http/https Agent.
 */
export function createGuardedLookup(policy: UrlPolicy = {}, lookup: LookupFn = defaultLookup): LookupFunction {
  return (hostname, options, callback) => {
    // Tolerate the legacy call shapes `(host, family, cb)` and `(host, cb)` that dns.lookup also accepts.
    const opts: LookupOptions =
      typeof options === 'object' && options !== null ? options : { family: options as unknown as number };
    const done = (typeof options === 'function' ? options : callback) as typeof callback;
    const family = toFamily(opts.family);

    resolvePublic(hostname, policy, lookup).then(
      (answers) => {
        const usable: LookupAddress[] = answers.filter((a) => family === 0 || a.family === family);
        const first = usable[0];
        if (first === undefined) {
          const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          error.code = 'ENOTFOUND';
          done(error, opts.all ? [] : '');
        } else if (opts.all) {
          done(null, usable);
        } else {
          done(null, first.address, first.family);
        }
      },
      (error: unknown) => {
        done(error instanceof Error ? error : new Error(String(error)), opts.all ? [] : '');
      },
    );
  };
}
