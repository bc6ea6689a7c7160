import { type LookupAddress, type LookupAllOptions, lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { type CallbackPolicy, normalHost } from '../shared/address-policy.js';

/** A callback refused because of the address it would reach (`gateway.callbackAllow`). */
export class CallbackRefusedError extends Error {
  override readonly name = 'CallbackRefusedError';
  readonly code = 'CALLBACK_REFUSED';
  constructor(reason: string) {
    super(`${reason}: not allowed for a callbackUrl (gateway.callbackAllow opens it)`);
  }
}

/** Name resolution, as `dns.lookup` with `all: true` answers it. */
export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: ResolveAll = (hostname) =>
  new Promise((resolve, reject) => {
    const options: LookupAllOptions = { all: true };
    dnsLookup(hostname, options, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    );
  });

export interface GuardedAgentOptions {
  /** Connect timeout, ms. */
  connectTimeoutMs: number;
  /** Name resolution (default `dns.lookup`); each address it gives is checked before use. */
  resolve?: ResolveAll;
  /** Connections per origin. */
  connections?: number;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * An undici dispatcher that connects only where `policy` allows: the address checked is the
 * one connected to (a name's addresses are resolved once, checked, and only an allowed one is
 * used, so a name that changes between a check and the connection gains nothing), and an
 * address literal is checked before its socket opens. A host the policy trusts by name is
 * connected to as usual.
 */
export function guardedAgent(policy: CallbackPolicy, options: GuardedAgentOptions): Agent {
  const resolve = options.resolve ?? systemResolve;
  const lookup = (hostname: string, lookupOptions: { all?: boolean }, callback: LookupCallback) => {
    resolve(hostname).then(
      (addresses) => {
        const refusals: string[] = [];
        const allowed = addresses.filter((a) => {
          const reason = policy.refuses(a.address);
          if (reason) refusals.push(reason);
          return reason === undefined;
        });
        if (allowed.length === 0) {
          const reason =
            refusals.length > 0
              ? `${hostname} resolves to ${refusals.join(', ')}`
              : `${hostname} resolves to no address`;
          callback(new CallbackRefusedError(reason), lookupOptions.all ? [] : '');
          return;
        }
        if (lookupOptions.all) callback(null, allowed);
        else callback(null, allowed[0]!.address, allowed[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, lookupOptions.all ? [] : ''),
    );
  };
  const timeout = options.connectTimeoutMs;
  const guarded = buildConnector({ timeout, lookup } as buildConnector.BuildOptions);
  const trusted = buildConnector({ timeout });
  const connect: buildConnector.connector = (opts, callback) => {
    const host = normalHost(opts.hostname);
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    if (policy.trustsHost(host, port)) return trusted(opts, callback);
    if (isIP(host)) {
      const reason = policy.refuses(host);
      if (reason) {
        callback(new CallbackRefusedError(reason), null);
        return;
      }
    }
    guarded(opts, (error, socket) => {
      if (error || !socket) return callback(error, null);
      // The address the socket is connected to, checked once more before a byte is sent.
      const reason = socket.remoteAddress ? policy.refuses(socket.remoteAddress) : undefined;
      if (reason) {
        socket.destroy();
        callback(new CallbackRefusedError(reason), null);
        return;
      }
      callback(null, socket);
    });
  };
  return new Agent({ connect, connections: options.connections ?? 4 });
}
