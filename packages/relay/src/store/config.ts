import * as z from 'zod';
import { isObject, need, orEnv, text } from '../config/fields.js';

// relay.json's `store`: one SQLite file (one process) or PostgreSQL (replicas).

const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

const sqliteStoreSchema = z.strictObject({ sqlite: z.string() });
const postgresStoreSchema = z.strictObject({ postgres: z.string(), schema: z.string().optional() });
/** `{ sqlite: path }` (one process) or `{ postgres: url, schema? }` (replicas). */
export type StoreConfig = z.output<typeof sqliteStoreSchema> | z.output<typeof postgresStoreSchema>;

export function storeProblem(store: unknown): string | undefined {
  if (!isObject(store)) return undefined;
  if (store['sqlite'] !== undefined && store['postgres'] !== undefined) {
    return 'give "sqlite" or "postgres", not both';
  }
  if (store['sqlite'] === undefined && store['postgres'] === undefined) {
    return 'needs "sqlite" (a file path) or "postgres" (a URL)';
  }
  return undefined;
}

export const storeSchema = z
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
