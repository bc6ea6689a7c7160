import type { SmsWebhookEventType } from '@sms/core';
import * as z from 'zod';
import {
  SECRET_MESSAGE,
  duration,
  httpUrl,
  int,
  isObject,
  name,
  need,
  secret,
  text,
} from '../config/fields.js';

// relay.json's `targets` (the webhook receivers) and `delivery` (how webhooks are sent and retried).

export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

export const EVENT_TYPES = [
  'sms.report',
  'sms.reply',
] as const satisfies readonly SmsWebhookEventType[];

export const targetSchema = z
  .strictObject(
    {
      name: name('The target name: in logs, metrics, sms-relay replay --target and enable'),
      url: httpUrl('Where events are POSTed'),
      secret: z
        .union([secret, z.array(secret, { error: need('a list of whsec_ secrets') })], {
          error: (issue) =>
            issue.input === null ? 'is required (a whsec_ secret)' : SECRET_MESSAGE,
        })
        .meta({
          description: 'A whsec_ secret, or a list of them during a rotation: each one signs',
        })
        .optional(),
      secrets: z
        .array(secret, { error: need('a list of whsec_ secrets') })
        .meta({ description: 'Same as secret, as a list' })
        .optional(),
      events: z
        .array(z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }), {
          error: need('a non-empty array'),
        })
        .min(1, { error: 'must be a non-empty array' })
        .meta({ description: 'Event types sent here (default: both)' })
        .optional(),
      accounts: z
        .array(text('An account name'), { error: need('an array of account names') })
        .meta({ description: 'Account names whose events go here (default: all)' })
        .optional(),
      timeoutMs: int(1, 'Request timeout in ms (default: delivery.timeoutMs)').optional(),
    },
    { error: need('an object') },
  )
  .meta({ description: 'One webhook receiver' });

export const deliverySchema = z
  .strictObject(
    {
      timeoutMs: int(1, 'Per-request timeout in ms').default(15_000),
      retrySchedule: z
        .array(duration('A delay'), { error: 'must be an array of durations' })
        .meta({
          description:
            'Delays before each retry, in ms or as "5s", "5m", "2h" (default "5s", "5m", "30m", "2h", "5h", "10h", "10h")',
        })
        .default(() => [...DEFAULT_RETRY_SCHEDULE]),
      jitter: z
        .number({ error: 'must be a number from 0 to below 1' })
        .min(0, { error: 'must be a number from 0 to below 1' })
        .lt(1, { error: 'must be a number from 0 to below 1' })
        .meta({ description: 'Random spread of each delay, as a fraction (0.2: ±20%)' })
        .default(0.2),
      concurrency: int(1, 'Requests in flight at once').default(64),
      batchSize: int(1, 'Deliveries claimed per store round trip').default(500),
      leaseMs: int(
        1,
        'How long a claim is exclusive, in ms (default 2 × timeoutMs + 5 s); a crashed holder’s claim then expires',
      ).optional(),
      idleMs: int(1, 'Idle wait before looking for due deliveries again, in ms').default(250),
      connections: int(1, 'Sockets per target').default(32),
    },
    { error: need('an object') },
  )
  .meta({ description: 'How webhooks are sent and retried' })
  .transform((delivery) => ({
    ...delivery,
    leaseMs: delivery.leaseMs ?? delivery.timeoutMs * 2 + 5000,
  }));

/** How webhooks are sent and retried. */
export type DeliveryConfig = z.output<typeof deliverySchema>;

/** A target as the delivery loop reads it: its secrets as a list, its defaults filled in. */
export function resolveTarget(
  target: z.output<typeof targetSchema>,
  accountNames: readonly string[],
  delivery: DeliveryConfig,
) {
  return {
    name: target.name,
    url: target.url,
    /** `whsec_` secrets; each one signs (several during a rotation). */
    secrets:
      target.secrets ??
      (typeof target.secret === 'string' ? [target.secret] : (target.secret ?? [])),
    events: [...new Set(target.events ?? EVENT_TYPES)] as SmsWebhookEventType[],
    accounts: target.accounts ?? [...accountNames],
    timeoutMs: target.timeoutMs ?? delivery.timeoutMs,
  };
}

/** One webhook receiver. */
export type TargetConfig = ReturnType<typeof resolveTarget>;

/** What the schema cannot see alone: `secret` or `secrets`, and account names that exist. */
export function targetRelations(
  input: Record<string, unknown>,
  accounts: readonly string[],
): Array<{ path: PropertyKey[]; message: string }> {
  const found: Array<{ path: PropertyKey[]; message: string }> = [];
  const targets = Array.isArray(input['targets']) ? input['targets'] : [];
  targets.forEach((target, i) => {
    if (!isObject(target)) return;
    // Errors name the key the user wrote: `secret` (the documented one, also when neither is
    // there) or `secrets`.
    if (target['secret'] !== undefined && target['secrets'] !== undefined) {
      found.push({
        path: ['targets', i, 'secrets'],
        message: 'give "secret" or "secrets", not both',
      });
    } else if (target['secret'] === undefined && target['secrets'] === undefined) {
      found.push({ path: ['targets', i, 'secret'], message: 'is required (a whsec_ secret)' });
    }
    for (const key of ['secret', 'secrets']) {
      if (Array.isArray(target[key]) && target[key].length === 0) {
        found.push({ path: ['targets', i, key], message: 'needs at least one secret' });
      }
    }
    const wanted = target['accounts'];
    if (Array.isArray(wanted) && Array.isArray(input['accounts'])) {
      wanted.forEach((account, j) => {
        if (typeof account === 'string' && !accounts.includes(account)) {
          found.push({
            path: ['targets', i, 'accounts', j],
            message: `no account is named "${account}"`,
          });
        }
      });
    }
  });
  return found;
}
