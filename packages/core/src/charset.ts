import iconv from 'iconv-lite';
import { TextDecoder } from 'node:util';
import { validationError, type SmsAction } from './errors.js';
import type { Charset } from './types.js';

/** Percent-encoded form of every byte: unreserved ASCII stays as it is. */
const BYTE_ENCODING: readonly string[] = Array.from({ length: 256 }, (_, byte) => {
  const char = String.fromCharCode(byte);
  return /[A-Za-z0-9\-_.~]/.test(char)
    ? char
    : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
});

function percentEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += BYTE_ENCODING[byte];
  return out;
}

/** The characters of `text` that GBK cannot represent (in order, without repeats). */
export function findGbkUnencodable(text: string): string[] {
  const bad = new Set<string>();
  for (const char of text) {
    if (char === '?') continue;
    const bytes = iconv.encode(char, 'gbk');
    // iconv-lite writes `?` for what GBK cannot hold.
    if (bytes.length === 1 && bytes[0] === 0x3f) bad.add(char);
  }
  return [...bad];
}

/** Percent-encodes one form value in the given charset; GBK rejects what it cannot hold. */
export function encodeFormValue(
  value: string,
  charset: Charset,
  field = 'value',
  action?: SmsAction,
): string {
  // encodeURIComponent leaves only `!'()*` beyond the unreserved set: harmless in a form.
  if (charset === 'utf-8') {
    try {
      return encodeURIComponent(value);
    } catch {
      throw validationError(field, `${field} is not valid Unicode (a lone surrogate)`, action);
    }
  }
  const bytes = iconv.encode(value, 'gbk');
  if (bytes.includes(0x3f) && iconv.decode(bytes, 'gbk') !== value) {
    const bad = findGbkUnencodable(value);
    throw validationError(
      field,
      `${field} has characters GBK cannot encode: ${bad.map((c) => JSON.stringify(c)).join(' ')} (use charset 'utf-8')`,
      action,
    );
  }
  return percentEncodeBytes(bytes);
}

/** `application/x-www-form-urlencoded` body for ordered fields, in the given charset. */
export function encodeForm(
  fields: ReadonlyArray<readonly [string, string]>,
  charset: Charset,
  action?: SmsAction,
): Buffer {
  return Buffer.from(encodeFormText(fields, charset, action), 'latin1');
}

/** `encodeForm` as text (ASCII only: every other byte is percent-encoded). */
export function encodeFormText(
  fields: ReadonlyArray<readonly [string, string]>,
  charset: Charset,
  action?: SmsAction,
): string {
  let form = '';
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i]!;
    form += `${i === 0 ? '' : '&'}${name}=${encodeFormValue(value, charset, name, action)}`;
  }
  return form;
}

/**
 * Percent-decodes to bytes. `raw` text holds one byte per char (a body read as latin1);
 * otherwise a character beyond ASCII is written in `charset`, as a browser would send it.
 */
function percentDecodeBytes(text: string, raw: boolean, charset: Charset): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25 /* % */ && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (code === 0x2b /* + */) {
      bytes.push(0x20);
    } else if (code < 0x80 || (raw && code < 0x100)) {
      bytes.push(code);
    } else {
      const char = String.fromCodePoint(text.codePointAt(i) ?? code);
      if (char.length === 2) i++;
      bytes.push(...encodeText(char, charset));
    }
  }
  return Buffer.from(bytes);
}

/**
 * Parses a query string or form body, percent-decoding each value as bytes of `charset`.
 * Bytes are read as they are (unencoded non-ASCII bytes included); a string's non-ASCII
 * characters are taken as text. Names are lower-cased (ASP.NET treats them
 * case-insensitively); the first value wins.
 */
export function decodeForm(input: string | Uint8Array, charset: Charset): Map<string, string> {
  const raw = typeof input !== 'string';
  const text = raw ? Buffer.from(input).toString('latin1') : input;
  const fields = new Map<string, string>();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    const name = decodeBytes(percentDecodeBytes(rawName, raw, charset), charset)
      .trim()
      .toLowerCase();
    if (!fields.has(name))
      fields.set(name, decodeBytes(percentDecodeBytes(rawValue, raw, charset), charset));
  }
  return fields;
}

const decoders = new Map<string, TextDecoder>();

function decoderFor(label: string): TextDecoder | undefined {
  let decoder = decoders.get(label);
  if (!decoder) {
    try {
      decoder = new TextDecoder(label);
    } catch {
      return undefined;
    }
    decoders.set(label, decoder);
  }
  return decoder;
}

/** Decodes bytes in a charset label (`gbk`, `gb2312`, `gb18030`, `utf-8`, …); unknown labels read as UTF-8. */
export function decodeBytes(bytes: Uint8Array, label: string): string {
  return (decoderFor(label.toLowerCase()) ?? decoderFor('utf-8')!).decode(bytes);
}

const HEADER_CHARSET = /charset\s*=\s*["']?([\w.:-]+)/i;
const XML_ENCODING = /^\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']/i;

/** The last `Content-Type` read and its charset: a client hears the same header every time. */
let lastContentType: string | undefined;
let lastHeaderCharset: string | undefined;

function headerCharset(contentType: string): string | undefined {
  if (contentType !== lastContentType) {
    lastHeaderCharset = HEADER_CHARSET.exec(contentType)?.[1];
    lastContentType = contentType;
  }
  return lastHeaderCharset;
}

/**
 * Picks a response's charset: the `Content-Type` charset, else a BOM, else the XML
 * declaration, else the endpoint's own charset. Real servers send GB2312 bytes under an
 * XML declaration that says utf-8, so the header must win.
 */
export function detectCharset(
  bytes: Uint8Array,
  contentType: string | undefined,
  fallback: Charset,
): { label: string; bomLength: number } {
  const fromHeader = contentType ? headerCharset(contentType) : undefined;
  const bomLength = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  if (fromHeader && decoderFor(fromHeader.toLowerCase())) return { label: fromHeader, bomLength };
  if (bomLength) return { label: 'utf-8', bomLength };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { label: 'utf-16le', bomLength: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { label: 'utf-16be', bomLength: 2 };
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
  const fromDeclaration = XML_ENCODING.exec(head)?.[1];
  if (fromDeclaration && decoderFor(fromDeclaration.toLowerCase())) {
    return { label: fromDeclaration, bomLength: 0 };
  }
  return { label: fallback, bomLength: 0 };
}

/** Decodes a response body by the rules of `detectCharset`. */
export function decodeResponse(
  bytes: Uint8Array,
  contentType: string | undefined,
  fallback: Charset,
): string {
  const { label, bomLength } = detectCharset(bytes, contentType, fallback);
  const text = decodeBytes(bytes.subarray(bomLength), label);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Encodes text for a response in the given charset (the emulator's GBK endpoint answers GB2312). */
export function encodeText(text: string, charset: Charset): Buffer {
  return charset === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, 'gbk');
}
