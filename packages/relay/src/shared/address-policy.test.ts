/** The callbackUrl address classifier: address literals only, nothing is connected to. */
import { describe, expect, it } from 'vitest';
import {
  callbackPolicy,
  embeddedIPv4,
  nonPublicReason,
  parseAllowEntry,
} from './address-policy.js';

describe('nonPublicReason', () => {
  it('names every range that is not public unicast, in IPv4 and IPv6 and the IPv6 forms of IPv4', () => {
    const refused: Array<[string, string]> = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'shared (CGNAT)'],
      ['100.127.255.255', 'shared (CGNAT)'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.1', 'documentation'],
      ['198.18.0.1', 'benchmarking'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456:789a::1', 'unique-local'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'documentation'],
      ['::ffff:127.0.0.1', 'loopback, as IPv6'],
      ['::ffff:7f00:1', 'loopback, as IPv6'],
      ['::ffff:10.0.0.1', 'private, as IPv6'],
      ['::ffff:a00:1', 'private, as IPv6'],
      ['::ffff:169.254.169.254', 'link-local, as IPv6'],
      ['::ffff:100.64.0.1', 'shared (CGNAT), as IPv6'],
      ['::ffff:0.0.0.0', 'unspecified, as IPv6'],
      ['::127.0.0.1', 'loopback, as IPv6'],
      ['::ffff:0:192.168.0.1', 'private, as IPv6'],
      ['64:ff9b::10.0.0.1', 'private, as IPv6'],
      ['64:ff9b::7f00:1', 'loopback, as IPv6'],
      ['2002:7f00:1::', 'loopback, as IPv6'],
      ['2002:c0a8:101::1', 'private, as IPv6'],
      ['[::1]', 'loopback'],
    ];
    for (const [address, reason] of refused) expect(nonPublicReason(address), address).toBe(reason);
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '100.128.0.1',
      '172.32.0.1',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
    ]) {
      expect(nonPublicReason(address), address).toBeUndefined();
    }
    expect(nonPublicReason('example.com')).toBe('not an IP address');
    expect(embeddedIPv4('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(embeddedIPv4('2606:4700::1111')).toBeUndefined();
  });
});

describe('callbackPolicy', () => {
  it('refuses URLs by their literal address in every spelling the URL parser normalises', () => {
    const policy = callbackPolicy();
    // URLs hold loopback forms only (the house rule for anything a test might call); the other
    // ranges go to the same classifier as bare addresses.
    for (const url of [
      'http://127.0.0.1:5432/',
      'http://2130706433:8080/',
      'http://0x7f000001/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://[::1]:6379/',
      'http://[::ffff:127.0.0.1]/',
      'http://localhost:9000/',
      'http://LOCALHOST./',
      'http://api.localhost/',
    ]) {
      expect(policy.refusesUrl(new URL(url)), url).toMatch(/ is /);
    }
    for (const address of ['10.0.0.8', 'fd00::8', '169.254.169.254', '::ffff:a9fe:a9fe']) {
      expect(policy.refuses(address), address).toMatch(/ is /);
    }
    expect(policy.refuses('8.8.8.8')).toBeUndefined();
    // A name is checked on the address it resolves to, when connecting (`.invalid` never resolves).
    expect(policy.refusesUrl(new URL('https://hooks.invalid/x'))).toBeUndefined();
  });

  it('callbackAllow opens CIDRs (and their IPv4-mapped forms) and host[:port] names', () => {
    const policy = callbackPolicy([
      '127.0.0.1',
      '10.0.0.0/8',
      'fd00::/8',
      'hooks.internal',
      'localhost:8080',
    ]);
    expect(policy.refusesUrl(new URL('http://127.0.0.1:9/'))).toBeUndefined();
    expect(policy.refusesUrl(new URL('http://2130706433:9/'))).toBeUndefined();
    expect(policy.refusesUrl(new URL('http://[::ffff:127.0.0.1]:9/'))).toBeUndefined();
    expect(policy.refusesUrl(new URL('http://127.0.0.2/'))).toMatch(/loopback/);
    expect(policy.refuses('10.9.8.7')).toBeUndefined();
    expect(policy.refuses('::ffff:10.9.8.7')).toBeUndefined();
    expect(policy.refuses('fd00::1')).toBeUndefined();
    expect(policy.refuses('192.168.0.1')).toBe('192.168.0.1 is private');
    expect(policy.trustsHost('HOOKS.internal.', 443)).toBe(true);
    expect(policy.trustsHost('localhost', 8080)).toBe(true);
    expect(policy.refusesUrl(new URL('http://localhost:8080/'))).toBeUndefined();
    expect(policy.refusesUrl(new URL('http://localhost:8081/'))).toBe('localhost is loopback');
  });

  it('parses allow entries, and says what a bad one should look like', () => {
    expect(parseAllowEntry('127.0.0.0/8')).toMatchObject({ kind: 'cidr' });
    expect(parseAllowEntry('::1')).toMatchObject({ kind: 'cidr' });
    expect(parseAllowEntry('[::1]')).toMatchObject({ kind: 'cidr' });
    expect(parseAllowEntry('hooks.internal:8443')).toMatchObject({ kind: 'host', port: 8443 });
    for (const bad of [
      '10.0.0.0/33',
      '::/129',
      'x/8',
      'http://a',
      'a b',
      'host:0',
      'host:70000',
      '',
    ]) {
      expect(typeof parseAllowEntry(bad), bad).toBe('string');
    }
  });
});
