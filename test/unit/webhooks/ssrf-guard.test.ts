import { get } from 'node:http';
import { BlockList } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { describe, it, expect } from 'vitest';
import { UnsafeUrlError } from '../../../src/errors.js';
import {
  assertSafeWebhookUrl,
  classifyAddress,
  createGuardedLookup,
  isPublicAddress,
  type LookupFn,
} from '../../../src/webhooks/ssrf-guard.js';

/** A resolver answering from a fixed table; any other host fails like getaddrinfo does. */
const stubLookup =
  (table: Record<string, string[]>): LookupFn =>
  async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const);
  };

const noDns: LookupFn = async (hostname) => {
  throw new Error(`unexpected DNS lookup of ${hostname}`);
};

const REFUSED = [
  ['127.0.0.1', 'loopback, 127.0.0.0/8'],
  ['::1', 'loopback, ::1/128'],
  ['169.254.169.254', 'link-local (cloud metadata), 169.254.0.0/16'],
  ['10.0.0.1', 'private, 10.0.0.0/8'],
  ['192.168.1.1', 'private, 192.168.0.0/16'],
  ['100.64.0.1', 'shared address space (CGNAT), 100.64.0.0/10'],
  ['::ffff:10.0.0.1', 'private, 10.0.0.0/8, embedded as 10.0.0.1 in IPv4-mapped, ::ffff:0:0/96'],
  ['::ffff:a00:1', 'private, 10.0.0.0/8, embedded as 10.0.0.1 in IPv4-mapped, ::ffff:0:0/96'],
  ['fd00::1', 'unique local (ULA), fc00::/7'],
  ['fe80::1', 'link-local, fe80::/10'],
  ['0.0.0.0', '"this network", 0.0.0.0/8'],
] as const;

describe('classifyAddress', () => {
  it.each(REFUSED)('refuses %s as %s', (ip, range) => {
    expect(classifyAddress(ip)).toEqual({ allowed: false, range });
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each([
    ['172.16.0.1', 'private, 172.16.0.0/12'],
    ['172.31.255.255', 'private, 172.16.0.0/12'],
    ['100.127.255.255', 'shared address space (CGNAT), 100.64.0.0/10'],
    ['192.0.0.8', 'IETF protocol assignments, 192.0.0.0/24'],
    ['192.0.2.10', 'documentation (TEST-NET-1), 192.0.2.0/24'],
    ['192.88.99.1', '6to4 relay anycast, 192.88.99.0/24'],
    ['198.19.255.255', 'benchmarking, 198.18.0.0/15'],
    ['198.51.100.7', 'documentation (TEST-NET-2), 198.51.100.0/24'],
    ['203.0.113.9', 'documentation (TEST-NET-3), 203.0.113.0/24'],
    ['224.0.0.251', 'multicast, 224.0.0.0/4'],
    ['239.255.255.250', 'multicast, 224.0.0.0/4'],
    ['240.0.0.1', 'reserved, 240.0.0.0/4'],
    ['255.255.255.255', 'limited broadcast, 255.255.255.255/32'],
    ['::', 'unspecified, ::/128'],
    ['0:0:0:0:0:0:0:1', 'loopback, ::1/128'],
    ['::ffff:127.0.0.1', 'loopback, 127.0.0.0/8, embedded as 127.0.0.1 in IPv4-mapped, ::ffff:0:0/96'],
    ['::ffff:a9fe:a9fe', 'link-local (cloud metadata), 169.254.0.0/16, embedded as 169.254.169.254 in IPv4-mapped, ::ffff:0:0/96'],
    ['64:ff9b::10.0.0.1', 'private, 10.0.0.0/8, embedded as 10.0.0.1 in NAT64, 64:ff9b::/96'],
    ['64:ff9b::7f00:1', 'loopback, 127.0.0.0/8, embedded as 127.0.0.1 in NAT64, 64:ff9b::/96'],
    ['64:ff9b:1::1', 'local-use NAT64, 64:ff9b:1::/48'],
    ['::a00:1', 'IPv4-compatible (deprecated), ::/96'],
    ['100::1', 'discard-only, 100::/64'],
    ['2001:db8::1', 'documentation, 2001:db8::/32'],
    ['2001::1', 'IETF protocol assignments, 2001::/23'],
    ['2001:1ff:ffff::1', 'IETF protocol assignments, 2001::/23'],
    ['2002:a00:1::1', 'private, 10.0.0.0/8, embedded as 10.0.0.1 in 6to4, 2002::/16'],
    ['2002:c0a8:101::', 'private, 192.168.0.0/16, embedded as 192.168.1.1 in 6to4, 2002::/16'],
    ['fc00::1', 'unique local (ULA), fc00::/7'],
    ['febf:ffff::1', 'link-local, fe80::/10'],
    ['fe80::1%eth0', 'link-local, fe80::/10'],
    ['fec0::1', 'site-local (deprecated), fec0::/10'],
    ['ff02::1', 'multicast, ff00::/8'],
    ['4000::1', 'reserved, outside global unicast 2000::/3'],
  ])('refuses %s as %s', (ip, range) => {
    expect(classifyAddress(ip)).toEqual({ allowed: false, range });
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '1.1.1.1',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.255',
    '192.0.3.0',
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700::1111',
    '2a00:1450:4001:82b::200e',
    '::ffff:93.184.216.34',
    '::ffff:5db8:d822',
    '64:ff9b::8.8.8.8',
    '2002:5db8:d822::1',
    '2001:200::1',
    '2001:db7:ffff::1',
    '2001:db9::1',
  ])('allows the public address %s', (ip) => {
    expect(classifyAddress(ip)).toEqual({ allowed: true });
    expect(isPublicAddress(ip)).toBe(true);
  });

  it.each(['example.com', '', '10.0.0', '010.0.0.1', '::ffff:10.0.0.256', '1::2::3'])(
    'refuses %j, which is not an IP address',
    (text) => {
      expect(classifyAddress(text)).toEqual({ allowed: false, range: 'not an IP address' });
    },
  );
});

describe('classifyAddress against node:net BlockList', () => {
  const CIDRS = [
    '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
    '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24',
    '224.0.0.0/4', '240.0.0.0/4',
  ];
  const blocked = new BlockList();
  for (const cidr of CIDRS) {
    const [network = '', prefix = ''] = cidr.split('/');
    blocked.addSubnet(network, Number(prefix), 'ipv4');
  }
  const format = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');

  it('agrees on the first and last address of every range and its neighbours', () => {
    for (const cidr of CIDRS) {
      const [network = '', prefix = ''] = cidr.split('/');
      const first = network.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
      const last = (first + 2 ** (32 - Number(prefix)) - 1) >>> 0;
      for (const n of [first - 1, first, first + 1, last - 1, last, last + 1]) {
        if (n < 0 || n > 0xffffffff) continue;
        const ip = format(n);
        expect(isPublicAddress(ip), ip).toBe(!blocked.check(ip, 'ipv4'));
        expect(isPublicAddress(`::ffff:${ip}`), `::ffff:${ip}`).toBe(!blocked.check(ip, 'ipv4'));
      }
    }
  });

  it('agrees on 20,000 random IPv4 addresses', () => {
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 20_000; i += 1) {
      const ip = format(next());
      expect(isPublicAddress(ip), ip).toBe(!blocked.check(ip, 'ipv4'));
    }
  });
});

describe('assertSafeWebhookUrl', () => {
  const lookup = stubLookup({
    'hooks.supplier.example': ['93.184.216.34', '2606:4700::1111'],
    'localhost': ['127.0.0.1', '::1'],
    'internal.example': ['10.0.0.1'],
    'metadata.example': ['169.254.169.254'],
    'mixed.example': ['93.184.216.34', '192.168.1.1'],
    'mapped.example': ['::ffff:a00:1'],
    'empty.example': [],
  });

  it('returns the parsed URL of a host resolving only to public addresses', async () => {
    const url = await assertSafeWebhookUrl('https://hooks.supplier.example/herald?t=1', {}, lookup);
    expect(url.href).toBe('https://hooks.supplier.example/herald?t=1');
  });

  it.each(['https://93.184.216.34/hook', 'https://[2606:4700::1111]:8443/hook'])(
    'accepts the public IP literal in %s without DNS',
    async (raw) => {
      await expect(assertSafeWebhookUrl(raw, {}, noDns)).resolves.toBeInstanceOf(URL);
    },
  );

  it.each([
    ['https://127.0.0.1/', /127\.0\.0\.1 is a non-public address \(loopback, 127\.0\.0\.0\/8\)/],
    ['https://[::1]/', /loopback, ::1\/128/],
    ['https://169.254.169.254/latest/meta-data/', /link-local/],
    ['https://10.0.0.1/', /private, 10\.0\.0\.0\/8/],
    ['https://192.168.1.1/', /private, 192\.168\.0\.0\/16/],
    ['https://100.64.0.1/', /CGNAT/],
    ['https://[::ffff:10.0.0.1]/', /private, 10\.0\.0\.0\/8, embedded as 10\.0\.0\.1/],
    ['https://[::ffff:a00:1]/', /private, 10\.0\.0\.0\/8/],
    ['https://[fd00::1]/', /unique local/],
    ['https://[fe80::1]/', /link-local, fe80::\/10/],
    ['https://0.0.0.0/', /"this network"/],
    ['https://0x7f.1/', /loopback/],
    ['https://2130706433/', /loopback/],
  ])('refuses the IP literal in %s', async (raw, message) => {
    const attempt = assertSafeWebhookUrl(raw, {}, noDns);
    await expect(attempt).rejects.toBeInstanceOf(UnsafeUrlError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('refuses a host resolving to a private address, naming host, address and range', async () => {
    await expect(assertSafeWebhookUrl('https://internal.example/', {}, lookup)).rejects.toThrow(
      'webhook host "internal.example" resolves to 10.0.0.1 (private, 10.0.0.0/8): refused',
    );
    await expect(assertSafeWebhookUrl('https://metadata.example/', {}, lookup)).rejects.toThrow(/169\.254\.169\.254/);
    await expect(assertSafeWebhookUrl('https://mapped.example/', {}, lookup)).rejects.toThrow(/::ffff:a00:1/);
    await expect(assertSafeWebhookUrl('https://localhost/', {}, lookup)).rejects.toThrow(/loopback/);
  });

  it('refuses a host whose answers mix a public and a private address', async () => {
    const attempt = assertSafeWebhookUrl('https://mixed.example/', {}, lookup);
    await expect(attempt).rejects.toBeInstanceOf(UnsafeUrlError);
    await expect(attempt).rejects.toThrow('resolves to 192.168.1.1 (private, 192.168.0.0/16)');
  });

  it('carries the host, address and range as details', async () => {
    const error = await assertSafeWebhookUrl('https://internal.example/', {}, lookup).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'UNSAFE_URL',
      status: 400,
      details: { host: 'internal.example', address: '10.0.0.1', range: 'private, 10.0.0.0/8' },
    });
  });

  it('refuses http unless allowHttp', async () => {
    await expect(assertSafeWebhookUrl('http://hooks.supplier.example/', {}, lookup)).rejects.toThrow(
      /scheme "http:" is not allowed \(https: only\)/,
    );
    await expect(
      assertSafeWebhookUrl('http://hooks.supplier.example/', { allowHttp: true }, lookup),
    ).resolves.toBeInstanceOf(URL);
  });

  it('still checks addresses when allowHttp is set', async () => {
    await expect(assertSafeWebhookUrl('http://internal.example/', { allowHttp: true }, lookup)).rejects.toThrow(
      /private/,
    );
  });

  it.each(['ftp://hooks.supplier.example/', 'file:///etc/passwd', 'gopher://hooks.supplier.example/', 'ws://x.example/'])(
    'refuses the scheme of %s even with allowHttp',
    async (raw) => {
      await expect(assertSafeWebhookUrl(raw, { allowHttp: true }, noDns)).rejects.toThrow(/scheme .* is not allowed/);
    },
  );

  it.each(['https://user:pass@hooks.supplier.example/', 'https://user@hooks.supplier.example/', 'https://:pw@hooks.supplier.example/'])(
    'refuses credentials in %s',
    async (raw) => {
      await expect(assertSafeWebhookUrl(raw, {}, lookup)).rejects.toThrow(/must not contain credentials/);
    },
  );

  it.each(['not a url', '', 'https://', '//hooks.supplier.example/'])('refuses %j as not a valid URL', async (raw) => {
    const attempt = assertSafeWebhookUrl(raw, {}, noDns);
    await expect(attempt).rejects.toBeInstanceOf(UnsafeUrlError);
    await expect(attempt).rejects.toThrow(/not a valid URL/);
  });

  it('refuses a host that cannot be resolved, keeping the resolver error as cause', async () => {
    const error = await assertSafeWebhookUrl('https://nowhere.example/', {}, lookup).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeUrlError);
    expect((error as Error).message).toBe('webhook host "nowhere.example" could not be resolved (ENOTFOUND): refused');
    expect((error as Error).cause).toMatchObject({ code: 'ENOTFOUND' });
  });

  it('refuses a host with no addresses', async () => {
    await expect(assertSafeWebhookUrl('https://empty.example/', {}, lookup)).rejects.toThrow(/resolves to no address/);
  });

  it('lets loopback and private hosts through with allowPrivateNetworks, without DNS', async () => {
    const policy = { allowPrivateNetworks: true, allowHttp: true };
    await expect(assertSafeWebhookUrl('http://127.0.0.1:8080/hook', policy, noDns)).resolves.toBeInstanceOf(URL);
    await expect(assertSafeWebhookUrl('https://internal.example/', policy, noDns)).resolves.toBeInstanceOf(URL);
  });

  it('keeps refusing credentials and bad schemes with allowPrivateNetworks', async () => {
    const policy = { allowPrivateNetworks: true };
    await expect(assertSafeWebhookUrl('https://a:b@127.0.0.1/', policy, noDns)).rejects.toThrow(/credentials/);
    await expect(assertSafeWebhookUrl('http://127.0.0.1/', policy, noDns)).rejects.toThrow(/scheme/);
  });
});

describe('createGuardedLookup', () => {
  type Result = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

  const call = (
    guarded: ReturnType<typeof createGuardedLookup>,
    hostname: string,
    options: Parameters<ReturnType<typeof createGuardedLookup>>[1],
  ): Promise<Result> =>
    new Promise((resolve) => guarded(hostname, options, (error, address, family) => resolve({ error, address, family })));

  const lookup = stubLookup({
    'hooks.supplier.example': ['2606:4700::1111', '93.184.216.34'],
    'rebound.example': ['10.0.0.1'],
    'mixed.example': ['93.184.216.34', '169.254.169.254'],
  });

  it('refuses a private answer through its callback with an UnsafeUrlError', async () => {
    const guarded = createGuardedLookup({}, lookup);
    for (const all of [false, true]) {
      const { error } = await call(guarded, 'rebound.example', { all });
      expect(error).toBeInstanceOf(UnsafeUrlError);
      expect(error?.message).toBe('webhook host "rebound.example" resolves to 10.0.0.1 (private, 10.0.0.0/8): refused');
    }
  });

  it('refuses when any answer is private', async () => {
    const { error } = await call(createGuardedLookup({}, lookup), 'mixed.example', { all: true });
    expect(error).toBeInstanceOf(UnsafeUrlError);
  });

  it('answers with all public addresses when options.all is set', async () => {
    const result = await call(createGuardedLookup({}, lookup), 'hooks.supplier.example', { all: true });
    expect(result.error).toBeNull();
    expect(result.address).toEqual([
      { address: '2606:4700::1111', family: 6 },
      { address: '93.184.216.34', family: 4 },
    ]);
  });

  it('answers with the first address and its family when options.all is not set', async () => {
    const result = await call(createGuardedLookup({}, lookup), 'hooks.supplier.example', {});
    expect(result).toEqual({ error: null, address: '2606:4700::1111', family: 6 });
  });

  it('honours options.family', async () => {
    const guarded = createGuardedLookup({}, lookup);
    expect(await call(guarded, 'hooks.supplier.example', { family: 4 })).toEqual({
      error: null,
      address: '93.184.216.34',
      family: 4,
    });
    expect((await call(guarded, 'hooks.supplier.example', { family: 'IPv6', all: true })).address).toEqual([
      { address: '2606:4700::1111', family: 6 },
    ]);
  });

  it('reports ENOTFOUND when no address of the wanted family exists', async () => {
    const v4only = stubLookup({ 'v4.example': ['93.184.216.34'] });
    const { error } = await call(createGuardedLookup({}, v4only), 'v4.example', { family: 6 });
    expect(error?.code).toBe('ENOTFOUND');
  });

  it('passes resolver failures through untouched', async () => {
    const { error } = await call(createGuardedLookup({}, lookup), 'nowhere.example', {});
    expect(error).not.toBeInstanceOf(UnsafeUrlError);
    expect(error?.code).toBe('ENOTFOUND');
  });

  it('lets private answers through with allowPrivateNetworks', async () => {
    const result = await call(createGuardedLookup({ allowPrivateNetworks: true }, lookup), 'rebound.example', {});
    expect(result).toEqual({ error: null, address: '10.0.0.1', family: 4 });
  });

  it('classifies an IP literal without resolving it', async () => {
    const guarded = createGuardedLookup({}, noDns);
    expect((await call(guarded, '127.0.0.1', {})).error).toBeInstanceOf(UnsafeUrlError);
    expect(await call(guarded, '93.184.216.34', {})).toEqual({ error: null, address: '93.184.216.34', family: 4 });
  });

  it('makes an http request fail with the UnsafeUrlError before any connection is opened', async () => {
    const error = await new Promise<Error>((resolve, reject) => {
      const request = get({ host: 'rebound.example', port: 9, path: '/', lookup: createGuardedLookup({}, lookup) });
      request.on('error', resolve);
      request.on('response', () => reject(new Error('unexpected response')));
    });
    expect(error).toBeInstanceOf(UnsafeUrlError);
    expect(error.message).toMatch(/resolves to 10\.0\.0\.1/);
  });
});
