import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientKey, createClientAddress } from '../../src/transport/client-address.js';

const request = (remoteAddress: string, forwardedFor?: string | string[]) =>
  ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('client address keys', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['2001:db8::ffff:1.2.3.4', '2001:db8:0:0::/64'],
  ])('%s is keyed as %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});

describe('createClientAddress', () => {
  it('ignores X-Forwarded-For without trusted proxies', () => {
    expect(createClientAddress([])(request('198.51.100.1', '203.0.113.1'))).toBe('198.51.100.1');
  });

  const trusted = createClientAddress(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
  it.each([
    ['a peer that is not a trusted proxy: its own address', request('198.51.100.1', '203.0.113.1'), '198.51.100.1'],
    ['a trusted proxy: the hop it appended', request('127.0.0.1', '203.0.113.1'), '203.0.113.1'],
    ['a chain of trusted proxies: the first untrusted hop from the right', request('127.0.0.1', '198.51.100.7, 203.0.113.1, 10.2.3.4'), '203.0.113.1'],
    ['several headers', request('10.0.0.5', ['198.51.100.7', '203.0.113.2']), '203.0.113.2'],
    ['an IPv6 proxy in a trusted CIDR', request('fd00::5', '2001:db8:9:9::1'), '2001:db8:9:9::/64'],
    ['an IPv4-mapped trusted peer', request('::ffff:127.0.0.1', '203.0.113.3'), '203.0.113.3'],
    ['garbage left of the trusted hops: the last address a proxy vouched for', request('127.0.0.1', 'not-an-ip, 10.0.0.9'), '10.0.0.9'],
    ['a trusted proxy without the header: the proxy', request('127.0.0.1'), '127.0.0.1'],
    ['every hop trusted: the left-most', request('127.0.0.1', '10.0.0.1, 10.0.0.2'), '10.0.0.1'],
  ])('%s', (_name, req, expected) => {
    expect(trusted(req)).toBe(expected);
  });
});
