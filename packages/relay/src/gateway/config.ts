import * as z from 'zod';
import { parseAllowEntry } from '../shared/address-policy.js';
import { duration, int, isObject, need, secret } from '../config/fields.js';

// relay.json's `gateway`: the sending gateway's concurrency, rate, retries, callbacks and route.

export const gatewaySchema = z
  .strictObject(
    {
      concurrency: int(1, 'Sends in flight at once, per relay process').default(8),
      ratePerSecond: z
        .number({ error: need('a number > 0') })
        .positive({ error: 'must be a number > 0' })
        .meta({ description: 'Sends per second per account and relay process (default 20)' })
        .default(20),
      maxAttempts: int(
        1,
        'Tries of a send that surely never reached the platform before it is failed',
      ).default(10),
      retryDelayMs: int(1, 'First wait before such a retry, in ms; doubles each time').default(
        1000,
      ),
      leaseMs: int(
        1,
        'How long a process holds a message it sends (default: 2 × the account timeout + 30 s); a message still "sending" after that is marked unknown, never resent',
      ).optional(),
      ttl: duration(
        'Default time to live of a message: not sent by then, it is expired (default: none)',
      ).optional(),
      callbackSecret: secret
        .meta({
          description:
            "Signs the webhooks sent to a message's callbackUrl (default: the first target's secrets)",
        })
        .optional(),
      idleMs: int(1, 'Idle wait before looking for queued messages again, in ms').default(200),
      callbackAllow: z
        .array(
          z.string({ error: need('a string') }).superRefine((entry, ctx) => {
            const parsed = parseAllowEntry(entry);
            if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
          }),
          { error: need('an array of CIDRs and host[:port] names') },
        )
        .meta({
          description:
            "What a message's callbackUrl may reach besides public unicast addresses: CIDRs (127.0.0.0/8, fd00::/8, an address alone) and host[:port] names (hooks.internal, localhost:8080). Default none: loopback, private, link-local, CGNAT, unique-local, multicast and unspecified addresses are refused",
        })
        .default([]),
      route: z
        .array(z.string({ error: need('an account name') }), {
          error: need('a list of account names'),
        })
        .min(1, { error: 'needs at least one account name' })
        .meta({
          description:
            'Accounts a message sent without "account" may go through, in order (default: every account): it moves to the next only when its send surely did not go out (docs/sending.md)',
        })
        .optional(),
      strategy: z
        .enum(['priority', 'round-robin'], { error: need('"priority" or "round-robin"') })
        .meta({
          description:
            'Where on the route a message without "account" starts: always the first account (priority), or each message at the next (round-robin)',
        })
        .default('priority'),
      breaker: z
        .union(
          [
            z.literal(false),
            z.strictObject(
              {
                failures: int(
                  1,
                  "An account's failures (refusals of the account, network errors, unknown outcomes) within windowMs that open its breaker",
                ).default(5),
                windowMs: int(1, 'The window failures are counted in, in ms').default(60_000),
                coolDownMs: int(
                  1,
                  'How long an open breaker skips the account before one probe send may try it, in ms',
                ).default(30_000),
              },
              { error: need('an object') },
            ),
          ],
          { error: need('false or { failures, windowMs, coolDownMs }') },
        )
        .meta({
          description:
            "Each account's circuit breaker (per relay process): while open, a message with another account left on its route skips the account before any send (CIRCUIT_OPEN) and goes to the next; false turns it off",
        })
        .default({ failures: 5, windowMs: 60_000, coolDownMs: 30_000 }),
    },
    { error: need('an object') },
  )
  .meta({
    description:
      'The sending gateway (POST /v1/messages, needs http.token): concurrency, rate, retry and the route of messages without an account',
  });

/** The gateway's section with `leaseMs` filled in from the accounts' timeouts. */
export function resolveGateway(
  gateway: z.output<typeof gatewaySchema>,
  accounts: ReadonlyArray<{ timeoutMs: number }>,
) {
  return {
    ...gateway,
    leaseMs:
      gateway.leaseMs ?? Math.max(...accounts.map((account) => account.timeoutMs)) * 2 + 30_000,
  };
}

export type GatewayConfig = ReturnType<typeof resolveGateway>;

/** Route entries must name configured accounts. */
export function gatewayRelations(
  input: Record<string, unknown>,
  accounts: readonly string[],
): Array<{ path: PropertyKey[]; message: string }> {
  const found: Array<{ path: PropertyKey[]; message: string }> = [];
  const gateway = input['gateway'];
  if (isObject(gateway) && Array.isArray(gateway['route']) && Array.isArray(input['accounts'])) {
    gateway['route'].forEach((account, j) => {
      if (typeof account === 'string' && !accounts.includes(account)) {
        found.push({
          path: ['gateway', 'route', j],
          message: `no account is named "${account}"`,
        });
      }
    });
  }
  return found;
}
