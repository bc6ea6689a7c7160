import { isObject } from './fields.js';
import { type PathIssue, startsWith } from './issues.js';
import { type JsonSchema, branches, childNode, kinds, schemaNode } from './json-schema.js';

/** Prefix of the environment variables that set config keys (`SMS_RELAY_STORE_SQLITE`). */
export const ENV_PREFIX = 'SMS_RELAY_';
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export type Env = Record<string, string | undefined>;

/** An environment variable that set a config key. */
export interface Override {
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

export interface ParseOptions {
  /** Environment for `${VAR}` (default `process.env`). */
  env?: Env;
  /** Folder that relative SQLite and journal paths are resolved against (default: the working directory). */
  baseDir?: string;
  /** Let `SMS_RELAY_*` variables of `env` set and override keys (as `loadConfig` does). Default false. */
  envOverrides?: boolean;
}

/** Applies SMS_RELAY_* overrides and ${VAR} substitution; collects what went wrong on the way. */
export function prepare(
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
