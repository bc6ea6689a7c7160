import * as z from 'zod';
import type { StoreConfig } from '../store/config.js';
import { flag, httpUrl, int, name, need, text } from '../config/fields.js';

// relay.json's `accounts` (what each poller polls) and `journal` (where pull answers are
// written before they are parsed).

export const accountSchema = z
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

/** One platform account to poll. */
export type AccountConfig = z.output<typeof accountSchema>;

export const journalSchema = z
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

/** Where pull answers are written before they are parsed (see docs/relay.md). */
export interface JournalConfig {
  /** Resolved against the config's folder by `parseConfig`. */
  dir: string;
  fsync: boolean;
}

export function resolveJournal(
  journal: z.output<typeof journalSchema>,
  store: StoreConfig,
): JournalConfig {
  return {
    dir:
      journal.dir ??
      ('sqlite' in store ? `${store.sqlite}.pull-journal` : 'sms-relay-pull-journal'),
    fsync: journal.fsync,
  };
}
