import { encodeText } from '@sms/core';

/** What a masked secret reads as. */
export const MASK = '***';

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/** `[aA]` for a hex letter, the digit itself otherwise: hex in any case. */
function anyCaseHex(hex: string): string {
  let out = '';
  for (const digit of hex) {
    out += /[a-f]/i.test(digit) ? `[${digit.toLowerCase()}${digit.toUpperCase()}]` : digit;
  }
  return out;
}

/** `%XX` (any case) per byte; a printable ASCII byte may also stand as itself. */
function percentBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    const encoded = `%${anyCaseHex(byte.toString(16).padStart(2, '0'))}`;
    out +=
      byte > 0x20 && byte < 0x7f
        ? `(?:${encoded}|${escapeRegExp(String.fromCharCode(byte))})`
        : encoded;
  }
  return out;
}

const HTML_NAMED: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Every way one character of a secret may come back: typed, form-encoded, HTML, JSON. */
function charPattern(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const alternatives = new Set<string>([escapeRegExp(char)]);
  if (char === ' ') alternatives.add('\\+');
  // A form value: UTF-8 bytes (sms.aspx) or GBK bytes (smsGBK.aspx), percent-encoded.
  alternatives.add(percentBytes(Buffer.from(char, 'utf8')));
  if (code >= 0x80) {
    const gbk = encodeText(char, 'gbk');
    if (!(gbk.length === 1 && gbk[0] === 0x3f)) alternatives.add(percentBytes(gbk));
  }
  // Echoed into an HTML error page, or escaped by JSON.stringify (--json).
  const named = HTML_NAMED[char];
  if (named) alternatives.add(escapeRegExp(named));
  alternatives.add(`&#0*${code};`);
  alternatives.add(`&#[xX]0*${anyCaseHex(code.toString(16))};`);
  if (char === '"' || char === '\\') alternatives.add(`\\\\${escapeRegExp(char)}`);
  if (code < 0x20) alternatives.add(`\\\\u${anyCaseHex(code.toString(16).padStart(4, '0'))}`);
  return `(?:${[...alternatives].join('|')})`;
}

/** At least this many characters of a secret cut off by an excerpt's `…` are masked. */
const MIN_PREFIX = 3;
const PARTIAL = '(?:%[0-9a-fA-F]{0,2}){0,4}(?:&#?[0-9a-zA-Z]{0,7})?';

/**
 * One pattern for all secrets: each whole, in any spelling above, and the start of one
 * where an excerpt was cut (`password=Top%20Sec…`), down to a half-written `%E5%A`.
 * Every character is a fixed set of fixed strings: matching stays linear in the text.
 */
export function secretsPattern(secrets: Iterable<string>): RegExp | undefined {
  const usable = [...new Set([...secrets].filter((s) => s !== ''))];
  if (usable.length === 0) return undefined;
  usable.sort((a, b) => b.length - a.length);
  const whole: string[] = [];
  const cut: string[] = [];
  for (const secret of usable) {
    const chars = Array.from(secret, charPattern);
    whole.push(chars.join(''));
    if (chars.length > MIN_PREFIX) {
      let tail = '';
      for (let i = chars.length - 2; i >= MIN_PREFIX; i--) tail = `(?:${chars[i]}${tail})?`;
      // The next character may be cut mid-spelling too: `%E5%A`, `&am`.
      cut.push(`${chars.slice(0, MIN_PREFIX).join('')}${tail}${PARTIAL}(?=…)`);
    }
  }
  return new RegExp([...whole, ...cut].join('|'), 'g');
}

/** Replaces every secret in `text` by `***`, however it was encoded (see `secretsPattern`). */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  const pattern = secretsPattern(secrets);
  return pattern ? text.replace(pattern, MASK) : text;
}
