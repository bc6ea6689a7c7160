import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * Which addresses a message's `callbackUrl` may reach. A client of the API chooses that URL, so
 * by default only public unicast addresses are allowed: not loopback, private, link-local,
 * CGNAT, unique-local, multicast, unspecified, documentation or reserved ranges, nor the
 * IPv4-mapped, -compatible, NAT64 or 6to4 forms of these. The operator opens what they trust
 * with `gateway.callbackAllow`: CIDRs (`127.0.0.0/8`, `::1/128`, an address alone) and
 * `host[:port]` names (`hooks.internal`, `localhost:8080`).
 */

/** Ranges that are not public unicast, with the reason a refusal names. */
const IPV4_RANGES: ReadonlyArray<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const IPV6_RANGES: ReadonlyArray<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard'],
  ['2001::', 23, 'reserved'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

function blockList(ranges: ReadonlyArray<[string, number, string]>, type: 'ipv4' | 'ipv6') {
  return ranges.map(([net, prefix, reason]) => {
    const list = new BlockList();
    list.addSubnet(net, prefix, type);
    return { list, reason };
  });
}

const V4 = blockList(IPV4_RANGES, 'ipv4');
const V6 = blockList(IPV6_RANGES, 'ipv6');

/** The 8 groups of an IPv6 address (a dotted IPv4 tail included), or undefined. */
function groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    if (!isIPv4(last)) return undefined;
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = 8 - left.length - right.length;
  const all = rest === undefined ? left : [...left, ...Array(Math.max(0, fill)).fill(0), ...right];
  if (all.length !== 8 || all.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) {
    return undefined;
  }
  if (tail.length) all.splice(6, 2, ...tail);
  return all;
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** The IPv4 address an IPv6 one stands for (mapped, compatible, NAT64, 6to4), if any. */
export function embeddedIPv4(address: string): string | undefined {
  const g = groups(address);
  if (!g) return undefined;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), ::ffff:0:a.b.c.d (translated).
  if (zeros(0, 5) && (g[5] === 0xffff || g[5] === 0)) {
    if (g[5] === 0 && g[6] === 0 && (g[7] === 0 || g[7] === 1)) return undefined; // :: and ::1
    return v4(g[6]!, g[7]!);
  }
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6]!, g[7]!);
  // 64:ff9b::/96 (NAT64 well-known) and 64:ff9b:1::/48 (local-use NAT64).
  if (g[0] === 0x64 && g[1] === 0xff9b && (zeros(2, 6) || g[2] === 1)) return v4(g[6]!, g[7]!);
  // 2002:AABB:CCDD::/48 (6to4).
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return undefined;
}

/**
 * Why `address` is not a public unicast address (`loopback`, `private`, …), or undefined when
 * it is one. Anything that is not an IP address at all is `not an IP address`.
 */
export function nonPublicReason(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare.split('%')[0] ?? '');
  if (family === 4) return V4.find((r) => r.list.check(bare, 'ipv4'))?.reason;
  if (family === 6) {
    const inner = embeddedIPv4(bare);
    if (inner !== undefined) {
      const reason = nonPublicReason(inner);
      return reason === undefined ? undefined : `${reason}, as IPv6`;
    }
    const plain = bare.split('%')[0]!;
    return V6.find((r) => r.list.check(plain, 'ipv6'))?.reason;
  }
  return 'not an IP address';
}

/** One `gateway.callbackAllow` entry, parsed; a string that is neither form is an error message. */
export type AllowEntry =
  | { kind: 'cidr'; list: BlockList; text: string }
  | { kind: 'host'; host: string; port: number | undefined; text: string };

const HOST = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?$/i;

/** Lower case, no brackets, no trailing dot: how names and addresses are compared. */
export function normalHost(host: string): string {
  return host
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

export function parseAllowEntry(entry: string): AllowEntry | string {
  const text = entry.trim();
  const slash = text.indexOf('/');
  if (slash !== -1 || isIP(text.replace(/^\[|\]$/g, ''))) {
    const net = slash === -1 ? text.replace(/^\[|\]$/g, '') : text.slice(0, slash);
    const family = isIP(net);
    const max = family === 4 ? 32 : 128;
    const prefix = slash === -1 ? max : Number(text.slice(slash + 1));
    if (family === 0 || !/^\d{1,3}$/.test(String(prefix)) || prefix > max) {
      return 'must be a CIDR (10.0.0.0/8, fd00::/8), an IP address, or host[:port]';
    }
    const list = new BlockList();
    list.addSubnet(net, prefix, family === 4 ? 'ipv4' : 'ipv6');
    // An IPv4 range also covers its IPv4-mapped IPv6 form (::ffff:a.b.c.d).
    if (family === 4) list.addSubnet(`::ffff:${net}`, 96 + prefix, 'ipv6');
    return { kind: 'cidr', list, text };
  }
  const match = /^(.*?)(?::(\d{1,5}))?$/.exec(text);
  const host = match?.[1] ?? '';
  const port = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!HOST.test(host) || (port !== undefined && (port < 1 || port > 65535))) {
    return 'must be a CIDR (10.0.0.0/8, fd00::/8), an IP address, or host[:port]';
  }
  return { kind: 'host', host: normalHost(host), port, text };
}

/** What a callback may reach: public unicast addresses, and what the operator allowed. */
export interface CallbackPolicy {
  /** Whether `host[:port]` of a URL is a trusted name (its addresses are then not checked). */
  trustsHost(host: string, port: number): boolean;
  /** Why a connection to `address` is refused, or undefined when it is allowed. */
  refuses(address: string): string | undefined;
  /**
   * Why a `callbackUrl` is refused as written (an address literal or a `localhost` name),
   * or undefined when it may be tried (a name is checked again on the address it resolves to).
   */
  refusesUrl(url: URL): string | undefined;
}

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

export function callbackPolicy(allow: readonly string[] = []): CallbackPolicy {
  const entries = allow
    .map(parseAllowEntry)
    .filter((entry): entry is AllowEntry => typeof entry !== 'string');
  const hosts = entries.filter((e) => e.kind === 'host');
  const cidrs = entries.filter((e) => e.kind === 'cidr');
  const trustsHost = (host: string, port: number) => {
    const name = normalHost(host);
    return hosts.some((e) => e.host === name && (e.port === undefined || e.port === port));
  };
  const refuses = (address: string) => {
    const bare = normalHost(address).split('%')[0]!;
    const family = isIP(bare);
    if (family === 0) return 'not an IP address';
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (cidrs.some((e) => e.list.check(bare, type))) return undefined;
    // An allowed IPv4 range also allows the IPv6 forms that stand for its addresses.
    const inner = family === 6 ? embeddedIPv4(bare) : undefined;
    if (inner !== undefined && cidrs.some((e) => e.list.check(inner, 'ipv4'))) return undefined;
    const reason = nonPublicReason(bare);
    return reason === undefined ? undefined : `${bare} is ${reason}`;
  };
  return {
    trustsHost,
    refuses,
    refusesUrl(url) {
      const port = defaultPort(url);
      if (trustsHost(url.hostname, port)) return undefined;
      const host = normalHost(url.hostname);
      if (isIP(host)) return refuses(host);
      // RFC 6761: localhost and its subdomains are loopback, whatever a resolver says.
      if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is loopback`;
      return undefined;
    },
  };
}
