import { isValidMobile, normalizeMobile, validationError } from '@sms/core';

/** An address as Nodemailer hands it over after `mail.normalize()`. */
export interface ParsedAddress {
  name?: string;
  address?: string;
}

export interface RecipientPartition {
  /** Normalised 11-digit numbers, deduplicated, in the order given. */
  accepted: string[];
  /** Entries that are not mobile numbers, as written. */
  rejected: string[];
}

const LIST_SEPARATOR = /[,，;；]/;
const SMS_DOMAIN = /@sms$/i;

/**
 * Turns what Nodemailer parsed out of `to`/`cc`/`bcc` (or the envelope) into mobile numbers.
 * Nodemailer's address parser files a bare `13800138000` under `name` (it has no `@`), so
 * the name counts when the address is empty. `13800138000@sms` loses its `@sms`; any other
 * e-mail address is rejected rather than guessed at.
 */
export function partitionRecipients(
  entries: ReadonlyArray<string | ParsedAddress | null | undefined>,
): RecipientPartition {
  const accepted: string[] = [];
  const rejected: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const text = addressText(entry);
    for (const piece of text.split(LIST_SEPARATOR)) {
      const written = piece.trim();
      if (written === '') continue;
      const local = written.replace(SMS_DOMAIN, '');
      const mobile = normalizeMobile(local);
      if (local.includes('@') || !isValidMobile(mobile)) {
        rejected.push(written);
      } else if (!seen.has(mobile)) {
        seen.add(mobile);
        accepted.push(mobile);
      }
    }
  }
  return { accepted, rejected };
}

function addressText(entry: string | ParsedAddress | null | undefined): string {
  if (entry == null) return '';
  if (typeof entry === 'string') return entry;
  const address = typeof entry.address === 'string' ? entry.address.trim() : '';
  if (address !== '') return address;
  return typeof entry.name === 'string' ? entry.name : '';
}

/**
 * Recipients as the caller wrote them in `to`/`cc`/`bcc`/`envelope.to`: a string (a comma
 * list), an `{ name, address }` object, or arrays of either. Read before Nodemailer's address
 * parser, which folds a bare `13800138000, ` into the display name of the next `Name <addr>`.
 */
export function recipientEntries(value: unknown): Array<string | ParsedAddress> {
  if (value == null || value === false) return [];
  if (Array.isArray(value)) return value.flatMap(recipientEntries);
  if (typeof value === 'string') return splitAddressList(value);
  if (typeof value === 'object') return [value as ParsedAddress];
  return [];
}

/**
 * Splits `13800138000, "Zhang, San" <13800138001>，李四 <13800138002@sms>` on commas and
 * semicolons (half- or full-width) outside quotes and angle brackets, and keeps the part in
 * `<…>` of each entry (the whole entry when there is none).
 */
export function splitAddressList(list: string): string[] {
  const entries: string[] = [];
  let current = '';
  let quoted = false;
  let angled = false;
  for (const char of list) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '<') angled = true;
    else if (!quoted && char === '>') angled = false;
    if (!quoted && !angled && (char === ',' || char === '，' || char === ';' || char === '；')) {
      entries.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  entries.push(current);
  return entries
    .map((entry) => {
      const bracket = /<([^<>]*)>\s*$/.exec(entry);
      return (bracket ? bracket[1]! : entry).trim();
    })
    .filter((entry) => entry !== '');
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ensp: ' ',
  emsp: ' ',
  middot: '·',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  ldquo: '“',
  rdquo: '”',
  lsquo: '‘',
  rsquo: '’',
  yen: '¥',
  copy: '©',
  reg: '®',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (match, entity: string) => {
    if (entity[0] === '#') {
      const code =
        entity[1] === 'x' || entity[1] === 'X'
          ? Number.parseInt(entity.slice(2), 16)
          : Number.parseInt(entity.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff
        ? String.fromCodePoint(code)
        : match;
    }
    return ENTITIES[entity.toLowerCase()] ?? match;
  });
}

/**
 * Reduces HTML to the plain text an SMS can carry: block ends and `<br>` become line breaks,
 * links keep their target, scripts, styles and comments go, entities are decoded.
 */
export function htmlToText(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|head|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
    .replace(
      /<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>([\s\S]*?)<\/a\s*>/gi,
      (
        _match,
        d: string | undefined,
        s: string | undefined,
        u: string | undefined,
        inner: string,
      ) => {
        // Entities are decoded once, for the whole text, below.
        const href = (d ?? s ?? u ?? '').trim();
        const label = inner.replace(/<[^>]*>/g, '').trim();
        if (!/^https?:\/\//i.test(href) || label.includes(href)) return label;
        return label === '' ? href : `${label} ${href}`;
      },
    )
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|tr|h[1-6]|blockquote|pre|table|ul|ol|section|article)\s*>/gi, '\n')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(text)
    .split('\n')
    .map((line) => line.replace(/[ \t\f\v\u00a0]+/g, ' ').trim())
    .filter((line) => line !== '')
    .join('\n');
}

/**
 * Reads a header from Nodemailer's `headers` (an object or a `{ key, value }` list),
 * case-insensitively: `undefined` when it is absent, `null` or blank. A value that is not
 * text (a number, an object, a list holding either) is a `VALIDATION` `SmsError` naming
 * `field`: a header meant to schedule a message must not be silently ignored.
 */
export function readHeader(headers: unknown, name: string, field = name): string | undefined {
  if (headers == null || typeof headers !== 'object') return undefined;
  const wanted = name.toLowerCase();
  if (Array.isArray(headers)) {
    for (const entry of headers) {
      if (entry && typeof entry === 'object' && String(entry.key).toLowerCase() === wanted) {
        return headerValue(entry.value, name, field);
      }
    }
    return undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === wanted) return headerValue(value, name, field);
  }
  return undefined;
}

function headerValue(value: unknown, name: string, field: string): string | undefined {
  const values = Array.isArray(value) ? value : [value];
  const texts = values.map((entry) =>
    entry !== null && typeof entry === 'object' && 'value' in entry
      ? (entry as { value: unknown }).value
      : entry,
  );
  for (const text of texts) {
    if (text != null && typeof text !== 'string') {
      throw validationError(
        field,
        `the ${name} header must be text, got ${Array.isArray(text) ? 'a list' : typeof text}`,
        'send',
      );
    }
  }
  // Several values: the first one counts, as Nodemailer writes them in order.
  const first = texts.find((text): text is string => typeof text === 'string');
  if (first === undefined) return undefined;
  const text = first.trim();
  return text === '' ? undefined : text;
}

/**
 * `X-SMS-Send-Time`: the platform's `YYYY-MM-DD HH:mm:ss` (Asia/Shanghai) goes through as
 * written; an ISO 8601 time with a zone (`…T…Z`, `+08:00`) becomes a `Date`.
 */
export function parseSendTimeHeader(value: string): Date | string {
  if (/T.*(Z|[+-]\d\d:?\d\d)$/i.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return value;
}
