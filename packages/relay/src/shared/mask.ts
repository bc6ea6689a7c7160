import { SECRET_MASK, maskSecrets, secretVariants } from '@sms/core';

/**
 * The shortest secret the relay looks for inside free text (a receiver's answer, an error
 * message). A shorter one (`17`, `p`) would be found inside numbers and words, so it is masked
 * only where it is a whole value; `sms-relay config check` warns about it.
 */
export const MIN_TEXT_SECRET = 6;

/** What the relay masks secrets with: whole values, and free text. */
export interface Masker {
  /** `text` with every secret long enough to be found safely masked where it stands alone. */
  text(text: string): string;
  /**
   * A copy of `value` (any JSON-like value) where each string equal to a secret (any of its
   * spellings) reads `***` and every other string is masked as free text. Keys, numbers and
   * the shape are never touched, so the result serializes to valid JSON whatever the secrets.
   */
  value<T>(value: T): T;
  /** Whether `text` is, as a whole, one of the secrets (any spelling). */
  isSecret(text: string): boolean;
}

function usable(secrets: readonly string[]): string[] {
  return [...new Set(secrets.filter((s) => typeof s === 'string' && s !== ''))];
}

/** The secrets of `secrets` that are masked inside free text. */
export function textSecrets(secrets: readonly string[]): string[] {
  return usable(secrets).filter((s) => Array.from(s).length >= MIN_TEXT_SECRET);
}

export function masker(secrets: readonly string[]): Masker {
  const all = usable(secrets);
  const whole = new Set(all.flatMap((s) => [s, ...secretVariants(s)]));
  const long = textSecrets(all);
  const text = (input: string): string =>
    long.length === 0 ? input : maskSecrets(input, long, { standalone: true });
  const isSecret = (input: string): boolean => whole.has(input);
  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return whole.has(value) ? SECRET_MASK : text(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > 64) return '[too deep]';
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      return walk((value as { toJSON(): unknown }).toJSON(), depth + 1);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = walk(item, depth + 1);
    return out;
  };
  return { text, isSecret, value: <T>(value: T) => walk(value, 0) as T };
}
