import type * as z from 'zod';
import { type ConfigIssue, RelayConfigError } from '../shared/config-error.js';
import { knownKeysAt } from './json-schema.js';
import { configShape } from './schema.js';

/** `['targets', 0, 'secret']` → `targets[0].secret`, as the user wrote it. */
export function fieldName(path: readonly PropertyKey[]): string {
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

export interface PathIssue {
  path: PropertyKey[];
  message: string;
}

/**
 * A typo (`userid` for `userId`, `pollInterval`) would otherwise fall back to the default
 * without a word: each unknown key is its own issue, with the key it probably meant.
 */
export function fromZod(issues: readonly z.core.$ZodIssue[]): PathIssue[] {
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
export function compare(a: PathIssue, b: PathIssue): number {
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

export function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((key, i) => path[i] === key);
}

export function fail(
  issues: PathIssue[],
  overrides: ReadonlyArray<{ variable: string; path: PropertyKey[] }>,
): never {
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
