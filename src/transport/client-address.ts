/**
 * Who a connection comes from, for per-client limits (CONNECTION_RATE_PER_IP). The TCP peer, unless that peer is one
 * of TRUSTED_PROXIES: then `X-Forwarded-For` is walked from the right (the hop the trusted proxy appended) past
 * trusted proxies to the first address that is not one. A header from anyone else is ignored, so a client cannot pick
 * its own bucket. IPv6 clients are keyed by their /64 (one subscriber's prefix), not by each of its addresses.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

export type ClientAddressOf = (req: IncomingMessage) => string;

/** `::ffff:1.2.3.4` is `1.2.3.4`. */
const unmapped = (address: string) => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

/** The eight groups of an IPv6 address, `::` expanded. */
function groups(address: string): string[] {
  const [head, tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  if (right.length && isIP(right[right.length - 1]!) === 4) right.splice(-1, 1, '0', '0'); // embedded IPv4: low 32 bits
  if (left.length && isIP(left[left.length - 1]!) === 4) left.splice(-1, 1, '0', '0');
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right];
}

/** The rate-limit key of an address: itself for IPv4, its /64 for IPv6. */
export function clientKey(address: string): string {
  const plain = unmapped(address);
  if (isIP(plain) !== 6) return plain;
  return `${groups(plain.split('%')[0]!).slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':')}::/64`;
}

/**
 * @param trusted TRUSTED_PROXIES: addresses and CIDRs (validated by config.ts). Empty: the TCP peer is the client.
 */
export function createClientAddress(trusted: readonly string[]): ClientAddressOf {
  const peer = (req: IncomingMessage) => unmapped(req.socket.remoteAddress ?? 'unknown');
  if (trusted.length === 0) return (req) => clientKey(peer(req));
  const list = new BlockList();
  for (const entry of trusted) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  const isTrusted = (address: string) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
  return (req) => {
    let client = peer(req);
    if (!isTrusted(client)) return clientKey(client);
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = unmapped(hops[i]!.trim());
      if (isIP(hop) === 0) break; // garbage left of the proxies' entries: keep the last address a proxy vouched for
      client = hop;
      if (!isTrusted(hop)) break;
    }
    return clientKey(client);
  };
}
