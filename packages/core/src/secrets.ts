import iconv from 'iconv-lite';

/** What a masked secret reads as. */
export const SECRET_MASK = '***';

const HTML_NAMED: Record<string, string[]> = {
  '&': ['&amp;'],
  '<': ['&lt;'],
  '>': ['&gt;'],
  '"': ['&quot;'],
  "'": ['&apos;'],
};

const JSON_SHORT: Record<string, string> = {
  '\b': 'b',
  '\f': 'f',
  '\n': 'n',
  '\r': 'r',
  '\t': 't',
};

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

/** `%XX` (any case) per byte; a byte that is printable ASCII may also stand as itself. */
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

/** Every way one character of a secret can be written back at us. */
function charAlternatives(char: string): string[] {
  const code = char.codePointAt(0) ?? 0;
  const alternatives = new Set<string>([escapeRegExp(char)]);
  if (char === ' ') alternatives.add('\\+');
  // Percent-encoded as UTF-8 bytes (sms.aspx) or as GBK bytes (smsGBK.aspx), hex in any case.
  alternatives.add(percentBytes(Buffer.from(char, 'utf8')));
  if (code >= 0x80) {
    const gbk = iconv.encode(char, 'gbk');
    if (!(gbk.length === 1 && gbk[0] === 0x3f)) alternatives.add(percentBytes(gbk));
  }
  // Echoed into an HTML page or a JSON string.
  for (const named of HTML_NAMED[char] ?? []) alternatives.add(escapeRegExp(named));
  alternatives.add(`&#0*${code};`);
  alternatives.add(`&#[xX]0*${anyCaseHex(code.toString(16))};`);
  let json = '';
  for (let i = 0; i < char.length; i++) {
    json += `\\\\[uU]${anyCaseHex(char.charCodeAt(i).toString(16).padStart(4, '0'))}`;
  }
  alternatives.add(json);
  if (char === '"' || char === '\\' || char === '/') alternatives.add(`\\\\${escapeRegExp(char)}`);
  const short = JSON_SHORT[char];
  if (short) alternatives.add(`\\\\${short}`);
  return [...alternatives];
}

/**
 * The literal spellings of a secret a server or a log is likely to hold: as typed, and as a
 * form value percent-encoded in UTF-8 and in GBK, upper- and lower-case hex, spaces as `%20`
 * or `+`. `maskSecrets` masks these and more (mixed-case hex, HTML and JSON escapes, partly
 * encoded forms); this list is for places that need plain strings (a pino `redact` censor,
 * a search through stored bytes).
 */
export function secretVariants(secret: string): string[] {
  if (typeof secret !== 'string' || secret === '') return [];
  const variants = new Set<string>([secret]);
  const forms = [encodeUriSafe(secret), percentAll(Buffer.from(secret, 'utf8'))];
  if (/[^\x00-\x7f]/.test(secret)) {
    const gbk = iconv.encode(secret, 'gbk');
    if (iconv.decode(gbk, 'gbk') === secret) forms.push(percentAll(gbk));
  }
  for (const form of forms) {
    if (form === undefined) continue;
    for (const spelled of [form, form.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())]) {
      variants.add(spelled);
      variants.add(spelled.replace(/%20/g, '+'));
    }
  }
  return [...variants];
}

function encodeUriSafe(text: string): string | undefined {
  try {
    return encodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Percent-encodes every byte but unreserved ASCII (the form encoding of `encodeForm`). */
function percentAll(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** How `maskSecrets` looks for secrets. */
export interface MaskOptions {
  /**
   * Only where a secret stands as a token of its own: no ASCII letter or digit right before or
   * after it (a percent-encoded byte before it counts as a separator). A short secret (`17`,
   * `123456`) is then masked in `password=123456&` but not inside `1733456789123456` or a
   * word. Default `false`: every occurrence.
   */
  standalone?: boolean;
}

const WORD = /[A-Za-z0-9]/;

/** The lookarounds that keep a match from starting or ending inside a word or a number. */
function edges(secret: string, standalone: boolean): [string, string] {
  if (!standalone) return ['', ''];
  const chars = Array.from(secret);
  const before = WORD.test(chars[0] ?? '') ? '(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2}))' : '';
  const after = WORD.test(chars[chars.length - 1] ?? '') ? '(?![A-Za-z0-9])' : '';
  return [before, after];
}

const patterns = new Map<string, RegExp | undefined>();

function patternFor(secrets: readonly string[], standalone: boolean): RegExp | undefined {
  const usable = [...new Set(secrets.filter((s) => typeof s === 'string' && s !== ''))];
  // Longest first, so a secret that contains another is masked whole.
  usable.sort((a, b) => b.length - a.length);
  const key = `${standalone ? 's' : 'a'}\u0000${usable.join('\u0000')}`;
  if (patterns.has(key)) return patterns.get(key);
  let pattern: RegExp | undefined;
  if (usable.length > 0) {
    const bodies = usable.map((secret) => {
      const [before, after] = edges(secret, standalone);
      const body = Array.from(secret, (char) => `(?:${charAlternatives(char).join('|')})`).join('');
      return `${before}${body}${after}`;
    });
    // Each character is a fixed set of fixed strings: no nested quantifier, no blow-up.
    pattern = new RegExp(bodies.join('|'), 'g');
  }
  if (patterns.size > 64) patterns.clear();
  patterns.set(key, pattern);
  return pattern;
}

/**
 * Replaces every occurrence of each secret in `text` with `***`, however it was written:
 * as typed, percent-encoded as a UTF-8 or GBK form value (hex in any case, `+` or `%20` for a
 * space, partly encoded), or escaped into HTML (`&amp;`, `&#38;`) or JSON (`\u0026`). The one
 * rule for every place that shows text a server sent back: `SmsError`, core's logs, the CLI,
 * the relay.
 */
export function maskSecrets(
  text: string,
  secrets: readonly string[],
  options: MaskOptions = {},
): string {
  if (typeof text !== 'string' || text === '') return text;
  const standalone = options.standalone === true;
  const pattern = patternFor(secrets, standalone);
  if (!pattern) return text;
  pattern.lastIndex = 0;
  const masked = text.replace(pattern, SECRET_MASK);
  // An excerpt may cut a secret short (`password=Top%20Se…`): its start is masked too.
  if (!masked.includes(ELLIPSIS)) return masked;
  const cut = cutPatternFor(secrets, standalone);
  if (!cut) return masked;
  cut.lastIndex = 0;
  return masked.replace(cut, SECRET_MASK);
}

const ELLIPSIS = '…';
const cutPatterns = new Map<string, RegExp | undefined>();

/** The first 3 or more characters of a secret (any spelling) right before an ellipsis. */
function cutPatternFor(secrets: readonly string[], standalone: boolean): RegExp | undefined {
  const usable = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length > 3))];
  const key = `${standalone ? 's' : 'a'}\u0000${usable.join('\u0000')}`;
  if (cutPatterns.has(key)) return cutPatterns.get(key);
  let pattern: RegExp | undefined;
  if (usable.length > 0) {
    const bodies = usable.map((secret) => {
      const chars = Array.from(secret, (char) => `(?:${charAlternatives(char).join('|')})`);
      // c1 c2 c3 (?: c4 (?: c5 ... )? )? : each step is a fixed set of strings.
      let tail = '';
      for (let i = chars.length - 1; i >= 3; i--) tail = `(?:${chars[i]}${tail})?`;
      return `${edges(secret, standalone)[0]}${chars.slice(0, 3).join('')}${tail}`;
    });
    // The cut may also fall inside a character's spelling (`%E5%A`, `&am`, `\u00`).
    pattern = new RegExp(
      `(?:${bodies.join('|')})(?:%[0-9A-Fa-f]{0,2}){0,4}(?:&#?\\w{0,7}|\\\\u?[0-9A-Fa-f]{0,3})?(?=${ELLIPSIS})`,
      'g',
    );
  }
  if (cutPatterns.size > 64) cutPatterns.clear();
  cutPatterns.set(key, pattern);
  return pattern;
}
