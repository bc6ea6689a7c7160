import * as z from 'zod';

/**
 * The building blocks of relay.json's schema (each section lives beside the code that reads
 * it: store/config.ts, pull/config.ts, delivery/config.ts, http/config.ts, gateway/config.ts).
 * Each block carries the message the user reads; messages never repeat a value (it may be a
 * secret).
 */

export const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "is required" when the key is missing, else "must be …". */
export const need =
  (what: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? 'is required' : `must be ${what}`;

/**
 * The JSON Schema pattern of a string that may also be a `${VAR}` reference: the file holds
 * the reference, the value is checked after substitution.
 */
export function orEnv(pattern: RegExp): string {
  const inner = pattern.source.replace(/^\^/, '').replace(/\$$/, '');
  return `^(?:${inner}|.*\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}.*)$`;
}

export const text = (description: string) =>
  z
    .string({ error: need('a non-empty string') })
    .min(1, { error: 'must be a non-empty string' })
    .meta({ description });

export const int = (min: number, description: string) =>
  z
    .int({ error: need(`an integer >= ${min}`) })
    .min(min, { error: `must be an integer >= ${min}` })
    .meta({ description });

export const flag = (description: string) =>
  z.boolean({ error: need('true or false') }).meta({ description });

export const name = (description: string) =>
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

export const httpUrl = (description: string) =>
  z
    .string({ error: need('an http: or https: URL') })
    .refine((value) => urlProblem(value) === undefined, {
      error: (issue) => urlProblem(String(issue.input)),
    })
    .meta({ description, pattern: orEnv(/^[Hh][Tt][Tt][Pp][Ss]?:\/\/.+$/) });

export const SECRET_MESSAGE = 'must be a whsec_ secret (whsec_ + base64)';
// The messages never repeat the value: it is a secret.
export const secret = z
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
export const duration = (description: string) =>
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

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
