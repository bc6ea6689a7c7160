import { validationError } from './errors.js';

const MOBILE = /^1[3-9]\d{9}$/;
const LIST_SEPARATOR = /[,，;；\n]+/;

/** True for an 11-digit mainland mobile number (`1[3-9]` and 9 more digits). */
export function isValidMobile(mobile: string): boolean {
  return MOBILE.test(mobile);
}

/**
 * Strips spaces, dashes, parentheses and a `+86`/`0086`/`86` prefix. Returns the digits
 * as typed otherwise; check the result with `isValidMobile`.
 */
export function normalizeMobile(input: string): string {
  let digits = input.trim().replace(/[\s\-().\u00a0\u3000]/g, '');
  if (digits.startsWith('+86')) digits = digits.slice(3);
  else if (digits.startsWith('0086')) digits = digits.slice(4);
  else if (digits.startsWith('86') && digits.length === 13) digits = digits.slice(2);
  return digits;
}

/** A string or an array of strings, or a `VALIDATION` error (a number, `null`, an object...). */
function checkInput(input: unknown): asserts input is string | readonly string[] {
  if (typeof input === 'string') return;
  if (Array.isArray(input)) {
    const bad = input.findIndex((entry) => typeof entry !== 'string');
    if (bad === -1) return;
    throw validationError('mobiles', `mobiles[${bad}] is not a string`, 'send');
  }
  throw validationError(
    'mobiles',
    `mobiles must be a string or an array of strings, got ${input === null ? 'null' : typeof input}`,
    'send',
  );
}

function rawEntries(input: string | readonly string[]): string[] {
  checkInput(input);
  const parts = typeof input === 'string' ? [input] : input;
  return parts
    .flatMap((part) => part.split(LIST_SEPARATOR))
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/** Splits a comma list (half- or full-width) or takes an array, then normalises each entry. */
export function splitMobiles(input: string | readonly string[]): string[] {
  return rawEntries(input).map(normalizeMobile);
}

export interface MobilePartition {
  valid: string[];
  invalid: string[];
}

/**
 * Normalises and splits recipients into valid (deduplicated, order kept) and invalid ones
 * (as the caller wrote them).
 */
export function partitionMobiles(input: string | readonly string[]): MobilePartition {
  const valid: string[] = [];
  const invalid: string[] = [];
  checkInput(input);
  // Fastest path: one clean number (most sends), alone or in a list of one.
  const single = typeof input === 'string' ? input : input.length === 1 ? input[0]! : undefined;
  if (single !== undefined && MOBILE.test(single)) {
    valid.push(single);
    return { valid, invalid };
  }
  const seen = new Set<string>();
  // Fast path: an array of numbers that are already clean.
  if (
    typeof input !== 'string' &&
    input.every((entry) => typeof entry === 'string' && MOBILE.test(entry))
  ) {
    for (const mobile of input) {
      if (!seen.has(mobile)) {
        seen.add(mobile);
        valid.push(mobile);
      }
    }
    return { valid, invalid };
  }
  for (const entry of rawEntries(input)) {
    const mobile = normalizeMobile(entry);
    if (!isValidMobile(mobile)) invalid.push(entry);
    else if (!seen.has(mobile)) {
      seen.add(mobile);
      valid.push(mobile);
    }
  }
  return { valid, invalid };
}

/** Normalised, valid, deduplicated numbers, or a `VALIDATION` error naming the bad ones. */
export function parseMobiles(input: string | readonly string[]): string[] {
  const { valid, invalid } = partitionMobiles(input);
  if (invalid.length > 0) {
    const shown = invalid.slice(0, 5).join(', ');
    const more = invalid.length > 5 ? ` and ${invalid.length - 5} more` : '';
    throw validationError('mobiles', `invalid mobile number(s): ${shown}${more}`, 'send');
  }
  if (valid.length === 0) throw validationError('mobiles', 'no mobile number given', 'send');
  return valid;
}
