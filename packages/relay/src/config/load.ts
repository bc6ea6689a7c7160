import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RelayConfigError } from '../shared/config-error.js';
import { type StoreConfig, storeSchema } from '../store/config.js';
import { type Env, type ParseOptions, prepare } from './env.js';
import { isObject, need } from './fields.js';
import { fail, fromZod, startsWith } from './issues.js';
import { type RelayConfig, relations, relayConfigSchemaInternal } from './schema.js';

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
