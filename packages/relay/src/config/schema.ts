import * as z from 'zod';
import {
  type GatewayConfig,
  gatewayRelations,
  gatewaySchema,
  resolveGateway,
} from '../gateway/config.js';
import {
  deliverySchema,
  resolveTarget,
  targetRelations,
  targetSchema,
} from '../delivery/config.js';
import { httpRelations, httpSchema } from '../http/config.js';
import { accountSchema, journalSchema, resolveJournal } from '../pull/config.js';
import type { ConfigIssue } from '../shared/config-error.js';
import { MIN_TEXT_SECRET } from '../shared/mask.js';
import { storeProblem, storeSchema } from '../store/config.js';
import { duration, int, isObject, need } from './fields.js';

/**
 * relay.json as a zod schema: one source for the TypeScript types (`RelayConfig` is its
 * output), the defaults, every error message, and the published `relay.schema.json`.
 * What a schema cannot say alone lives beside it: `${VAR}` substitution, `SMS_RELAY_*`
 * variables, relations between sections (names that must exist or be unique), and relative
 * paths resolved against the config's folder.
 */

const DAY = 86_400_000;

const logSchema = z
  .strictObject(
    {
      level: z
        .enum(['debug', 'info', 'warn', 'error'], {
          error: 'must be debug, info, warn or error',
        })
        .meta({ description: 'The least severe level logged' })
        .default('info'),
    },
    { error: need('an object') },
  )
  .meta({ description: 'JSON log lines, secrets redacted' });

export const configShape = z
  .strictObject(
    {
      $schema: z
        .string()
        .meta({ description: 'The JSON Schema for editors (ignored by the relay)' })
        .optional(),
      store: storeSchema,
      accounts: z
        .array(accountSchema, { error: need('a non-empty array') })
        .min(1, { error: 'must be a non-empty array' }),
      targets: z
        .array(targetSchema, { error: need('a non-empty array') })
        .min(1, { error: 'must be a non-empty array' }),
      http: httpSchema.nullable().optional(),
      delivery: deliverySchema.prefault({}),
      gateway: gatewaySchema.prefault({}),
      journal: journalSchema.prefault({}),
      shutdownGraceMs: int(0, 'How long SIGTERM waits for deliveries in flight, in ms').default(
        10_000,
      ),
      retention: duration(
        'Fully delivered events older than this are deleted (default "7d"; 0 keeps them)',
      ).optional(),
      retentionMs: duration('Same as retention').optional(),
      log: logSchema.prefault({}),
    },
    { error: need('an object') },
  )
  .meta({
    title: 'sms-relay configuration (relay.json)',
    description:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${VAR} syntax
      'Every string may use ${VAR} (replaced from the environment); every key can also be set by an SMS_RELAY_* variable (see the @sms/webhook-relay README).',
  });

/** Names that must exist or be unique, and either-or keys: checked on the raw input. */
export function relations(input: unknown): Array<{ path: PropertyKey[]; message: string }> {
  const found: Array<{ path: PropertyKey[]; message: string }> = [];
  if (!isObject(input)) return found;
  const store = storeProblem(input['store']);
  if (store) found.push({ path: ['store'], message: store });
  if (store) found.push({ path: ['store'], message: store });
  const names = (list: unknown, key: string): string[] => {
    if (!Array.isArray(list)) return [];
    const seen = new Set<string>();
    list.forEach((item, i) => {
      const value = isObject(item) ? item['name'] : undefined;
      if (typeof value !== 'string') return;
      if (seen.has(value))
        found.push({ path: [key, i, 'name'], message: `duplicate name "${value}"` });
      seen.add(value);
    });
    return [...seen];
  };
  const accounts = names(input['accounts'], 'accounts');
  names(input['targets'], 'targets');
  found.push(
    ...gatewayRelations(input, accounts),
    ...httpRelations(input),
    ...targetRelations(input, accounts),
  );
  return found;
}

export const relayConfigSchemaInternal = configShape
  .superRefine((config, ctx) => {
    // The store is checked (and transformed) by its own schema.
    for (const { path, message } of relations({ ...config, store: undefined })) {
      ctx.addIssue({ code: 'custom', path, message });
    }
  })
  .transform((config) => {
    const accountNames = config.accounts.map((account) => account.name);
    return {
      store: config.store,
      accounts: config.accounts,
      targets: config.targets.map((target) => resolveTarget(target, accountNames, config.delivery)),
      /** Health and metrics server; null runs without one. */
      http: config.http ?? null,
      delivery: config.delivery,
      /** The sending gateway, `leaseMs` filled in. */
      gateway: resolveGateway(config.gateway, config.accounts) as GatewayConfig,
      journal: resolveJournal(config.journal, config.store),
      shutdownGraceMs: config.shutdownGraceMs,
      /** Fully delivered events older than this are deleted (0 keeps them). */
      retentionMs: config.retentionMs ?? config.retention ?? 7 * DAY,
      log: config.log,
    };
  });

/**
 * The relay.json schema (zod 4). Parsing with it validates and fills in defaults; it does not
 * substitute `${VAR}`, read `SMS_RELAY_*` variables or resolve relative paths: `parseConfig`
 * and `loadConfig` do, and report every problem at once.
 */
export const relayConfigSchema: z.ZodType<
  z.output<typeof relayConfigSchemaInternal>,
  z.input<typeof relayConfigSchemaInternal>
> = relayConfigSchemaInternal;

/** A validated relay config with every default filled in. */
export type RelayConfig = z.output<typeof relayConfigSchemaInternal>;
/** relay.json as written (before defaults). */
export type RelayConfigInput = z.input<typeof relayConfigSchemaInternal>;

/**
 * What is valid but worth a word: a secret too short to be found safely inside free text (a
 * receiver's answer, an error page) is masked only where it is a whole value. `sms-relay config
 * check` prints these, and `run` logs them.
 */
export function configWarnings(config: RelayConfig): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  const short = (field: string, value: string | undefined) => {
    if (value && Array.from(value).length < MIN_TEXT_SECRET) {
      warnings.push({
        field,
        message:
          `is shorter than ${MIN_TEXT_SECRET} characters: it is masked where it is a whole value, ` +
          "but not inside free text such as a receiver's answer (it would match inside numbers and words)",
      });
    }
  };
  for (const [i, account] of config.accounts.entries()) {
    short(`accounts[${i}].password`, account.password);
  }
  if ('postgres' in config.store) {
    try {
      short('store.postgres', decodeURIComponent(new URL(config.store.postgres).password));
    } catch {}
  }
  return warnings;
}
