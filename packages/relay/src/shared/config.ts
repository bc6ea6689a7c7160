import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SmsWebhookEventType } from '@sms/core';
import * as z from 'zod';
import { parseAllowEntry } from './address-policy.js';
import { MIN_TEXT_SECRET } from './mask.js';

/**
 * relay.json as a zod schema: one source for the TypeScript types (`RelayConfig` is its
 * output), the defaults, every error message, and the published `relay.schema.json`.
 * What a schema cannot say alone lives beside it: `${VAR}` substitution, `SMS_RELAY_*`
 * variables, relations between sections (names that must exist or be unique), and relative
 * paths resolved against the config's folder.
 */

/** One problem in a configuration: where, as the user wrote it (`targets[0].secret`), and what. */
export interface ConfigIssue {
  field: string;
  message: string;
}

/**
 * Thrown for an invalid configuration. `issues` lists every problem found at once; `field`
 * names the first (`targets[0].url`). Messages never repeat a value (it may be a secret).
 */
export class RelayConfigError extends Error {
  override readonly name = 'RelayConfigError';
  /** The first bad value's name. */
  readonly field: string;
  /** Every problem, in config order. */
  readonly issues: ConfigIssue[];
  constructor(
    field: string,
    message: string,
    options?: { cause?: unknown; issues?: ConfigIssue[] },
  ) {
    const issues = options?.issues?.length ? options.issues : [{ field, message }];
    super(
      issues.map((issue) => `[sms] [relay] config ${issue.field}: ${issue.message}`).join('\n'),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.field = issues[0]!.field;
    this.issues = issues;
  }
}

export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

/** Prefix of the environment variables that set config keys (`SMS_RELAY_STORE_SQLITE`). */
export const ENV_PREFIX = 'SMS_RELAY_';

const EVENT_TYPES = ['sms.report', 'sms.reply'] as const satisfies readonly SmsWebhookEventType[];
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DAY = 86_400_000;

// ---- building blocks: each carries the message the user reads ----

/** "is required" when the key is missing, else "must be …". */
const need =
  (what: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : `must be ${what}`;

/**
 * The JSON Schema pattern of a string that may also be a `${VAR}` reference: the file holds
 * the reference, the value is checked after substitution.
 */
function orEnv(pattern: RegExp): string {
  const inner = pattern.source.replace(/^\^/, '').replace(/\$$/, '');
  return `^(?:${inner}|.*\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}.*)$`;
}

const text = (description: string) =>
  z
    .string({ error: need('a non-empty string') })
    .min(1, { error: 'must be a non-empty string' })
    .meta({ description });

const int = (min: number, description: string) =>
  z
    .int({ error: need(`an integer >= ${min}`) })
    .min(min, { error: `must be an integer >= ${min}` })
    .meta({ description });

const flag = (description: string) =>
  z.boolean({ error: need('true or false') }).meta({ description });

const name = (description: string) =>
  z
    .string({ error: need('a non-empty string') })
    .refine((value) => NAME.test(value), { error: `must match ${NAME}` })
    .meta({ description, pattern: orEnv(NAME) });

function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return 'must be an http: or https: URL';
  if (url.username || url.password) return 'must not carry credentials';
  return undefined;
}

const httpUrl = (description: string) =>
  z
    .string({ error: need('an http: or https: URL') })
    .refine((value) => urlProblem(value) === undefined, {
      error: (issue) => urlProblem(String(issue.input)),
    })
    .meta({ description, pattern: orEnv(/^[Hh][Tt][Tt][Pp][Ss]?:\/\/.+$/) });

const SECRET_MESSAGE = 'must be a whsec_ secret (whsec_ + base64)';
// The messages never repeat the value: it is a secret.
const secret = z
  .string({ error: need('a whsec_ secret (whsec_ + base64)') })
  .refine((value) => SECRET.test(value), { error: SECRET_MESSAGE })
  .refine((value) => !SECRET.test(value) || Buffer.from(value.slice(6), 'base64').length >= 16, {
    error: 'must hold at least 16 bytes of key',
  })
  .meta({
    description: 'A Standard Webhooks signing secret: whsec_ + base64 of 16+ bytes',
    pattern: orEnv(SECRET),
  });

const DURATION_MESSAGE = 'must be milliseconds or a duration like "5s", "5m", "2h", "7d"';
/** `5000`, `"5s"`, `"5m"`, `"2h"`, `"250ms"` → milliseconds. */
const duration = (description: string) =>
  z
    .union(
      [
        z.number({ error: DURATION_MESSAGE }).min(0, { error: DURATION_MESSAGE }),
        z
          .string({ error: DURATION_MESSAGE })
          .refine((value) => DURATION.test(value.trim()), { error: DURATION_MESSAGE })
          .meta({ pattern: orEnv(DURATION) }),
      ],
      { error: DURATION_MESSAGE },
    )
    .meta({ description })
    .transform((value) => {
      if (typeof value === 'number') return value;
      const match = DURATION.exec(value.trim())!;
      return Number(match[1]) * UNITS[match[2]!]!;
    });

// ---- sections ----

const accountSchema = z
  .strictObject(
    {
      name: name(
        "The relay's name for the account: in event bodies (data.account), logs and metrics",
      ),
      baseUrl: httpUrl("The platform's address, e.g. http://203.0.113.5:8888"),
      userId: z
        .string({ error: 'must be a string' })
        .meta({ description: '企业ID; may be empty' })
        .default(''),
      account: text('The account name'),
      password: text(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${VAR} syntax
        'The password; keep it out of the file with "${SMS_PASSWORD}" or SMS_RELAY_ACCOUNTS_<n>_PASSWORD',
      ),
      charset: z
        .enum(['utf-8', 'gbk'], { error: 'must be "utf-8" or "gbk"' })
        .meta({ description: 'sms.aspx (utf-8) or smsGBK.aspx (gbk)' })
        .default('utf-8'),
      auth: z
        .enum(['password', 'signed'], { error: 'must be "password" or "signed"' })
        .meta({
          description:
            'password, or signed for platforms with the v2 endpoints (no password on the wire)',
        })
        .default('password'),
      pollIntervalMs: int(10, 'Wait between polls that found nothing new, in ms').default(5000),
      statusNum: int(1, 'Reports per pull (statusNum)').default(4000),
      reports: flag('Pull delivery reports').default(true),
      replies: flag('Pull replies').default(true),
      timeoutMs: int(1, 'Deadline of a whole platform request, headers and body, in ms').default(
        15_000,
      ),
      maxResponseBytes: int(
        1024,
        'Largest answer accepted from the platform (4,000 reports are about 1 MiB)',
      ).default(32 << 20),
    },
    { error: need('an object') },
  )
  .meta({ description: 'One platform account to poll' });

const targetSchema = z
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

const sqliteStoreSchema = z.strictObject({ sqlite: z.string() });
const postgresStoreSchema = z.strictObject({ postgres: z.string(), schema: z.string().optional() });
/** `{ sqlite: path }` (one process) or `{ postgres: url, schema? }` (replicas). */
export type StoreConfig = z.output<typeof sqliteStoreSchema> | z.output<typeof postgresStoreSchema>;

function storeProblem(store: unknown): string | undefined {
  if (!isObject(store)) return undefined;
  if (store['sqlite'] !== undefined && store['postgres'] !== undefined) {
    return 'give "sqlite" or "postgres", not both';
  }
  if (store['sqlite'] === undefined && store['postgres'] === undefined) {
    return 'needs "sqlite" (a file path) or "postgres" (a URL)';
  }
  return undefined;
}

const storeSchema = z
  .strictObject(
    {
      sqlite: text('SQLite file, relative to the config file (one process)').optional(),
      postgres: z
        .string({ error: need('a postgres:// URL') })
        .refine((value) => /^postgres(ql)?:\/\//.test(value), {
          error: 'must be a postgres:// URL',
        })
        .meta({
          description: 'PostgreSQL URL (replicas share the work)',
          pattern: orEnv(/^postgres(ql)?:\/\/.*$/),
        })
        .optional(),
      schema: z
        .string({ error: 'must be a lower-case SQL identifier' })
        .refine((value) => SQL_IDENTIFIER.test(value), {
          error: 'must be a lower-case SQL identifier',
        })
        .meta({ description: 'PostgreSQL schema for the tables', pattern: orEnv(SQL_IDENTIFIER) })
        .optional(),
    },
    { error: need('an object') },
  )
  .meta({
    description: 'Where events and deliveries are kept: sqlite or postgres',
    oneOf: [{ required: ['sqlite'] }, { required: ['postgres'] }],
  })
  .superRefine((store, ctx) => {
    const message = storeProblem(store);
    if (message) ctx.addIssue({ code: 'custom', message });
  })
  .transform(
    (store): StoreConfig =>
      store.sqlite !== undefined
        ? { sqlite: store.sqlite }
        : store.schema === undefined
          ? { postgres: store.postgres ?? '' }
          : { postgres: store.postgres ?? '', schema: store.schema },
  );

const deliverySchema = z
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

const journalSchema = z
  .strictObject(
    {
      dir: text(
        'Default: <sqlite file>.pull-journal, or sms-relay-pull-journal beside relay.json for PostgreSQL. One per replica',
      ).optional(),
      fsync: flag('fdatasync each answer so it also survives a power loss').default(true),
    },
    { error: need('an object') },
  )
  .meta({ description: 'Where pull answers are written before they are parsed' });

const httpSchema = z
  .strictObject(
    {
      port: int(0, 'Port; 0 picks a free one')
        .max(65535, { error: 'must be at most 65535' })
        .default(9464),
      host: text('Address to bind (0.0.0.0: every interface)').default('0.0.0.0'),
      token: z
        .string({ error: need('a string of at least 16 characters') })
        .min(16, { error: 'must be at least 16 characters' })
        .meta({
          description:
            // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${VAR} syntax
            'Bearer token for the console (/) and the API (/api, /v1); without one they are off. Keep it out of the file: set SMS_RELAY_HTTP_TOKEN, or write "${RELAY_TOKEN}"',
        })
        .optional(),
      protectMetrics: flag(
        '/metrics asks for the token too (default: open to scrapers); needs token',
      ).default(false),
    },
    { error: need('an object') },
  )
  .meta({
    description:
      '/healthz, /readyz, Prometheus /metrics, and with a token the console and API; omit or null to run without',
  });

const gatewaySchema = z
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
    },
    { error: need('an object') },
  )
  .meta({
    description:
      'The sending gateway (POST /v1/messages, needs http.token): concurrency, rate, retry and the route of messages without an account',
  });

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

const configShape = z
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
function relations(input: unknown): Array<{ path: PropertyKey[]; message: string }> {
  const found: Array<{ path: PropertyKey[]; message: string }> = [];
  if (!isObject(input)) return found;
  const store = storeProblem(input['store']);
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
  const http = input['http'];
  if (isObject(http) && http['protectMetrics'] === true && http['token'] === undefined) {
    found.push({
      path: ['http', 'protectMetrics'],
      message: 'needs http.token (without one, /metrics would answer 401 to everyone)',
    });
  }
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

const relayConfigSchemaInternal = configShape
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
      targets: config.targets.map((target) => ({
        name: target.name,
        url: target.url,
        /** `whsec_` secrets; each one signs (several during a rotation). */
        secrets:
          target.secrets ??
          (typeof target.secret === 'string' ? [target.secret] : (target.secret ?? [])),
        events: [...new Set(target.events ?? EVENT_TYPES)] as SmsWebhookEventType[],
        accounts: target.accounts ?? accountNames,
        timeoutMs: target.timeoutMs ?? config.delivery.timeoutMs,
      })),
      /** Health and metrics server; null runs without one. */
      http: config.http ?? null,
      delivery: config.delivery,
      /** The sending gateway, `leaseMs` filled in. */
      gateway: {
        ...config.gateway,
        leaseMs:
          config.gateway.leaseMs ??
          Math.max(...config.accounts.map((account) => account.timeoutMs)) * 2 + 30_000,
      },
      journal: {
        /** Resolved against the config's folder by `parseConfig`. */
        dir:
          config.journal.dir ??
          ('sqlite' in config.store
            ? `${config.store.sqlite}.pull-journal`
            : 'sms-relay-pull-journal'),
        fsync: config.journal.fsync,
      },
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
/** One platform account to poll. */
export type AccountConfig = RelayConfig['accounts'][number];
/** One webhook receiver. */
export type TargetConfig = RelayConfig['targets'][number];
/** How webhooks are sent and retried. */
export type DeliveryConfig = RelayConfig['delivery'];
/** Where pull answers are written before they are parsed (see docs/relay.md). */
export type JournalConfig = RelayConfig['journal'];
export type GatewayConfig = RelayConfig['gateway'];

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

// ---- JSON Schema ----

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  [key: string]: unknown;
}

let jsonSchema: JsonSchema | undefined;

/**
 * The JSON Schema of relay.json (draft-07, what editors support best), as shipped in
 * `@sms/webhook-relay/relay.schema.json`.
 */
export function relayConfigJsonSchema(): Record<string, unknown> {
  jsonSchema ??= z.toJSONSchema(configShape, {
    target: 'draft-7',
    io: 'input',
    override: ({ jsonSchema: node }) => {
      // z.int()'s safe-integer bounds say nothing to a person editing relay.json.
      if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
      if (node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
    },
  }) as JsonSchema;
  return structuredClone(jsonSchema);
}

function schemaNode(): JsonSchema {
  if (!jsonSchema) relayConfigJsonSchema();
  return jsonSchema!;
}

/** The alternatives a node allows (`anyOf` flattened). */
function branches(node: JsonSchema): JsonSchema[] {
  return node.anyOf ? node.anyOf.flatMap(branches) : [node];
}

function kinds(node: JsonSchema): Set<string> {
  const out = new Set<string>();
  for (const branch of branches(node)) {
    const types = Array.isArray(branch.type) ? branch.type : branch.type ? [branch.type] : [];
    for (const type of types) out.add(type === 'integer' ? 'number' : type);
  }
  return out;
}

function childNode(node: JsonSchema, key: PropertyKey): JsonSchema | undefined {
  for (const branch of branches(node)) {
    if (typeof key === 'number' && branch.items) return branch.items;
    if (typeof key === 'string' && branch.properties?.[key]) return branch.properties[key];
  }
  return undefined;
}

function nodeAt(path: readonly PropertyKey[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = schemaNode();
  for (const key of path) {
    if (!node) return undefined;
    node = childNode(node, key);
  }
  return node;
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const node = nodeAt(path);
  if (!node) return [];
  return branches(node).flatMap((branch) => Object.keys(branch.properties ?? {}));
}

// ---- issues ----

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `['targets', 0, 'secret']` → `targets[0].secret`, as the user wrote it. */
function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(root)';
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}

/** The known key a typo most likely meant (`userid` → `userId`, `pollInterval` → `pollIntervalMs`). */
function suggest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  return (
    known.find((k) => k.toLowerCase() === lower) ??
    (lower.length >= 4
      ? (known.find((k) => k.toLowerCase().startsWith(lower)) ??
        known.find((k) => k.length >= 4 && lower.startsWith(k.toLowerCase())) ??
        known.find((k) => distance(k.toLowerCase(), lower) <= 2))
      : undefined)
  );
}

interface PathIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * A typo (`userid` for `userId`, `pollInterval`) would otherwise fall back to the default
 * without a word: each unknown key is its own issue, with the key it probably meant.
 */
function fromZod(issues: readonly z.core.$ZodIssue[]): PathIssue[] {
  return issues.flatMap((issue): PathIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(issue.path);
      return issue.keys.map((key) => {
        const near = suggest(key, known);
        return {
          path: [...issue.path, key],
          message: `is not a known setting${near ? ` (did you mean "${near}"?)` : ''}`,
        };
      });
    }
    return [{ path: [...issue.path], message: issue.message }];
  });
}

const ROOT_ORDER = Object.keys(configShape.shape);

/** Config order: sections as the schema lists them, list items by index. */
function compare(a: PathIssue, b: PathIssue): number {
  const length = Math.min(a.path.length, b.path.length);
  for (let i = 0; i < length; i++) {
    const x = a.path[i]!;
    const y = b.path[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (i === 0) {
      const rank = (key: PropertyKey) => {
        const at = ROOT_ORDER.indexOf(String(key));
        return at === -1 ? ROOT_ORDER.length : at;
      };
      return rank(x) - rank(y);
    }
    return 0;
  }
  return 0;
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((key, i) => path[i] === key);
}

// ---- ${VAR} and SMS_RELAY_* ----

type Env = Record<string, string | undefined>;

/** An environment variable that set a config key. */
interface Override {
  variable: string;
  path: PropertyKey[];
  value: unknown;
}

function snake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** The env value as the type the schema wants there: numbers, booleans, lists, JSON sections. */
function coerce(raw: string, node: JsonSchema): unknown {
  const can = kinds(node);
  const trimmed = raw.trim();
  if ((can.has('object') || can.has('array')) && /^[[{]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return raw;
    }
  }
  // A list as `a,b` (a secret rotation too: base64 has no comma).
  if (can.has('array') && (!can.has('string') || trimmed.includes(','))) {
    const items = branches(node).find((branch) => branch.items)?.items ?? {};
    return trimmed === '' ? [] : trimmed.split(',').map((item) => coerce(item.trim(), items));
  }
  if (can.has('number') && /^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (can.has('boolean') && /^(true|false)$/i.test(trimmed))
    return trimmed.toLowerCase() === 'true';
  if (can.has('null') && trimmed === 'null') return null;
  return raw;
}

/** `ACCOUNTS_0_BASE_URL` → `['accounts', 0, 'baseUrl']`, guided by the schema; undefined if nothing matches. */
function envPath(tokens: string[]): { path: PropertyKey[]; node: JsonSchema } | undefined {
  let node = schemaNode();
  const path: PropertyKey[] = [];
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    if (/^\d{1,3}$/.test(token) && childNode(node, 0)) {
      path.push(Number(token));
      node = childNode(node, 0)!;
      i++;
      continue;
    }
    // The longest key whose UPPER_SNAKE spelling starts here (RETENTION_MS before RETENTION).
    let best: { key: string; length: number } | undefined;
    for (const branch of branches(node)) {
      for (const key of Object.keys(branch.properties ?? {})) {
        if (key.startsWith('$')) continue;
        const parts = snake(key).split('_');
        if (
          parts.every((part, k) => tokens[i + k] === part) &&
          parts.length > (best?.length ?? 0)
        ) {
          best = { key, length: parts.length };
        }
      }
    }
    if (!best) return undefined;
    path.push(best.key);
    node = childNode(node, best.key)!;
    i += best.length;
  }
  return path.length ? { path, node } : undefined;
}

function envOverrides(env: Env): { overrides: Override[]; issues: PathIssue[] } {
  const overrides: Override[] = [];
  const issues: PathIssue[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const found = envPath(variable.slice(ENV_PREFIX.length).split('_'));
    if (!found) {
      issues.push({
        path: [variable],
        message: `is not a known setting (${ENV_PREFIX}<KEY>: see the @sms/webhook-relay README)`,
      });
      continue;
    }
    overrides.push({ variable, path: found.path, value: coerce(raw, found.node) });
  }
  // A whole section first, then the keys inside it.
  overrides.sort((a, b) => a.path.length - b.path.length);
  return { overrides, issues };
}

function setAt(root: Record<string, unknown>, path: readonly PropertyKey[], value: unknown): void {
  let node: Record<PropertyKey, unknown> = root;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (next === null || typeof next !== 'object') {
      node[key] = typeof path[i + 1] === 'number' ? [] : {};
    }
    node = node[key] as Record<PropertyKey, unknown>;
  });
}

/** Replaces `${NAME}` in every string value with the environment variable, but not inside `skip`. */
function substitute(
  value: unknown,
  env: Env,
  path: PropertyKey[],
  skip: readonly PropertyKey[][],
  issues: PathIssue[],
): unknown {
  if (skip.some((prefix) => startsWith(path, prefix))) return value;
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (whole, name: string) => {
      const found = env[name];
      if (found === undefined) {
        issues.push({ path, message: `environment variable ${name} is not set` });
        return whole;
      }
      return found;
    });
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => substitute(item, env, [...path, i], skip, issues));
  }
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        substitute(item, env, [...path, key], skip, issues),
      ]),
    );
  }
  return value;
}

interface ParseOptions {
  /** Environment for `${VAR}` (default `process.env`). */
  env?: Env;
  /** Folder that relative SQLite and journal paths are resolved against (default: the working directory). */
  baseDir?: string;
  /** Let `SMS_RELAY_*` variables of `env` set and override keys (as `loadConfig` does). Default false. */
  envOverrides?: boolean;
}

/** Applies SMS_RELAY_* overrides and ${VAR} substitution; collects what went wrong on the way. */
function prepare(
  input: unknown,
  env: Env,
  withOverrides: boolean,
): { value: unknown; issues: PathIssue[]; overrides: Override[] } {
  const issues: PathIssue[] = [];
  let value = input;
  let overrides: Override[] = [];
  if (withOverrides) {
    const found = envOverrides(env);
    issues.push(...found.issues);
    overrides = found.overrides;
    // A root that is not an object is reported as such, not papered over.
    if (overrides.length && isObject(input)) {
      value = structuredClone(input);
      for (const override of overrides) {
        setAt(value as Record<string, unknown>, override.path, override.value);
      }
    }
  }
  // Values from the environment are taken as they are: no ${VAR} inside them.
  const skip = overrides.map((override) => override.path);
  value = substitute(value, env, [], skip, issues);
  return { value, issues, overrides };
}

function fail(issues: PathIssue[], overrides: readonly Override[]): never {
  const seen = new Set<string>();
  const list: ConfigIssue[] = [];
  for (const issue of [...issues].sort(compare)) {
    const field = fieldName(issue.path);
    const source = overrides
      .filter((override) => startsWith(issue.path, override.path))
      .at(-1)?.variable;
    const message = source ? `${issue.message} (from ${source})` : issue.message;
    const key = `${field}\n${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    list.push({ field, message });
  }
  throw new RelayConfigError(list[0]!.field, list[0]!.message, { issues: list });
}

/**
 * Validates a parsed relay.json and fills in defaults. `${ENV}` references are replaced from
 * `env`; relative SQLite and journal paths are resolved against `baseDir`. Throws a
 * `RelayConfigError` listing every problem.
 */
export function parseConfig(input: unknown, options: ParseOptions = {}): RelayConfig {
  const env = options.env ?? process.env;
  const prepared = prepare(input, env, options.envOverrides ?? false);
  const result = relayConfigSchemaInternal.safeParse(prepared.value);
  // The schema checks relations only once the rest is valid: check them anyway, so every
  // problem is in the one report.
  const related = relations(prepared.value);
  if (result.success && prepared.issues.length === 0 && related.length === 0) {
    const config = result.data;
    const baseDir = options.baseDir ?? '.';
    if ('sqlite' in config.store) config.store = { sqlite: resolve(baseDir, config.store.sqlite) };
    config.journal.dir = resolve(baseDir, config.journal.dir);
    return config;
  }
  // A value whose ${VAR} is missing is reported once, for that, not again for its shape.
  const unset = prepared.issues.map((issue) => issue.path);
  const fromSchema = result.success
    ? []
    : fromZod(result.error.issues).filter(
        (issue) => !unset.some((path) => path.length > 0 && startsWith(issue.path, path)),
      );
  return fail([...prepared.issues, ...fromSchema, ...related], prepared.overrides);
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RelayConfigError('(file)', `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RelayConfigError('(file)', `${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Reads and validates a relay.json file. `SMS_RELAY_*` variables of `env` set or override
 * its keys (`SMS_RELAY_ACCOUNTS_0_PASSWORD`); `${VAR}` references are replaced from `env`.
 */
export function loadConfig(path: string, env: Env = process.env): RelayConfig {
  return parseConfig(readJson(path), {
    env,
    baseDir: dirname(resolve(path)),
    envOverrides: true,
  });
}

/**
 * The target names a config file lists, read without validating the rest (the CLI's
 * maintenance commands run without the secrets in their environment); undefined if none.
 */
export function loadTargetNames(path: string, env: Env = process.env): string[] | undefined {
  const { value } = prepare(readJson(path), env, true);
  if (!isObject(value)) return undefined;
  const targets = value['targets'];
  if (!Array.isArray(targets)) return undefined;
  return targets.flatMap((t: unknown) => {
    const name = isObject(t) ? t['name'] : t;
    return typeof name === 'string' ? [name] : [];
  });
}

/**
 * Reads only the `store` of a relay.json file: what `status`, `dead`, `replay` and `enable`
 * need, so operators can run them without the accounts' passwords in their environment.
 */
export function loadStoreConfig(path: string, env: Env = process.env): StoreConfig {
  const raw = readJson(path);
  if (!isObject(raw)) throw new RelayConfigError('(root)', need('an object')({ input: raw }));
  const { value, issues, overrides } = prepare({ store: raw['store'] }, env, true);
  const store = isObject(value) ? value['store'] : undefined;
  const result = storeSchema.safeParse(store);
  const found = [
    ...issues.filter((issue) => issue.path[0] === 'store'),
    ...(result.success
      ? []
      : fromZod(result.error.issues).map((issue) => ({
          ...issue,
          path: ['store', ...issue.path],
        }))),
    ...relations({ store }),
  ];
  if (found.length || !result.success) fail(found, overrides);
  const config = result.data;
  return 'sqlite' in config ? { sqlite: resolve(dirname(resolve(path)), config.sqlite) } : config;
}
