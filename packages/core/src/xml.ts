/**
 * A small, tolerant reader for the platform's flat XML answers. Real servers send
 * whitespace inside tags (`< checkCounts >`, `</userid >`), CRLF before the root, single
 * quoted declarations and extra elements, so a strict parser is the wrong tool. Every
 * value stays a string: extno `01` and 16-digit taskIDs must survive exactly.
 *
 * The reader is a hand-written scanner (`indexOf` and `charCodeAt`, no regular
 * expressions), linear in the size of its input whatever that input is: a hostile or
 * broken answer must never freeze the process that reads it. What it accepts:
 *
 * - elements `<name …>`, `</name …>` and `<name …/>`, with whitespace after `<`, around
 *   the `/` and before `>`; names are lower-cased; attributes are skipped (an attribute
 *   value may not contain `<` or `>`);
 * - comments, processing instructions and XML declarations (single- or double-quoted;
 *   a PI ends at the first `?>`), `<!DOCTYPE …>` and other `<!…>` declarations (which
 *   end at the first `>`), and CDATA sections, whose content is taken literally;
 * - the entities `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&#NNN;` `&#xHHH;` in text; any
 *   other `&` is kept as it is;
 * - a close tag closes every element opened after its own open element (mismatched
 *   tags); a close tag with no open element of its name is ignored; text before the root
 *   and everything after the root's end (a second root included) is ignored.
 *
 * A `<` that cannot start any of these (`a < b`, `<<`, `<1>`, `<a"b">`) is plain text.
 * A construct that the body ends inside of (`<statusbox` and no `>`, `<!--` with no
 * `-->`, `<![CDATA[` with no `]]>`, `<?xml` with no `?>`, a lone `<` at the end) is where
 * the readable document ends: whatever was open stays unclosed, so the answer reads as
 * truncated. (An unclosed comment, CDATA section or PI used to be skipped up to some
 * later `>` or read as text; searching the rest of the body for every one of them was
 * quadratic.)
 */

export interface XmlElement {
  /** Lower-cased tag name (the platform's casing varies: `taskID`, `taskid`). */
  name: string;
  /**
   * The element's own text (its children's text excluded), not trimmed: entities decoded
   * in each run of text between two pieces of markup, CDATA literal. For an unclosed
   * element, the text read before the body ended, decoded the same way.
   */
  text: string;
  children: XmlElement[];
  /**
   * `true` once the element is known to be complete: its end tag was read, it was
   * self-closing (`<a/>`), or the end tag of an element around it closed it (the
   * mismatched-tag tolerance: `<a><b>x</a>` closes `<b>` too). `false` when the body
   * ended while it was still open (a truncated answer; see `readXmlPartial`).
   */
  closed: boolean;
}

export class XmlReadError extends Error {
  override readonly name = 'XmlReadError';
}

/**
 * Reads a document into its root element. Throws `XmlReadError` when there is no root
 * element or it is never closed (a truncated body).
 */
export function readXml(source: string): XmlElement {
  const root = readXmlPartial(source);
  if (!root) throw new XmlReadError('no XML root element');
  if (!root.closed) throw new XmlReadError(`<${root.name}> is never closed (truncated body?)`);
  return root;
}

/**
 * Reads as much of a document as there is, never throwing: the root element (closed or
 * not) with every element's `closed` flag set, or `undefined` when there is no root
 * element. Made for salvaging the complete records (`closed === true`) of an answer cut
 * off mid-way. The text of an element that is still open is decoded like any other; it
 * ends where the body does (or where an unfinished tag begins).
 */
export function readXmlPartial(source: string): XmlElement | undefined {
  const text = typeof source === 'string' ? source : String(source);
  return scan(text);
}

// Character codes.
const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f; // /
const BANG = 0x21; // !
const QUESTION = 0x3f; // ?

/** JavaScript's `\s` (WhiteSpace and LineTerminator), which the old reader's regex used. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** `[A-Za-z_]` */
function isNameStart(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f;
}

/** `[A-Za-z0-9_:.-]` */
function isNameChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x30 && code <= 0x3a) || // 0-9 and :
    code === 0x5f ||
    code === 0x2d ||
    code === 0x2e
  );
}

function scan(source: string): XmlElement | undefined {
  const length = source.length;
  const stack: XmlElement[] = [];
  /**
   * How many elements of each name are open, kept once the stack has been deeper than
   * `SCAN_DEPTH`: a close tag with no open element of its name then costs O(1) instead of a
   * walk down a deep stack (`<a>` x 50,000 then `</b>` x 50,000 would be quadratic).
   */
  let openCounts: Map<string, number> | undefined;
  let root: XmlElement | undefined;
  let current: XmlElement | undefined;
  /** Start of the text not yet given to `current`. */
  let textStart = 0;
  /** Where the readable document ends (the body's end, or an unfinished construct). */
  let end = length;
  let pos = 0;

  scanning: while (true) {
    const lt = source.charCodeAt(pos) === LT ? pos : source.indexOf('<', pos);
    if (lt === -1) break;
    let i = lt + 1;
    if (i === length) {
      end = lt;
      break;
    }
    let code = source.charCodeAt(i);

    if (code === BANG) {
      let after: number;
      let cdataEnd = -1;
      if (source.startsWith('--', i + 1)) {
        const close = source.indexOf('-->', lt + 4);
        after = close === -1 ? -1 : close + 3;
      } else if (source.startsWith('[CDATA[', i + 1)) {
        cdataEnd = source.indexOf(']]>', lt + 9);
        after = cdataEnd === -1 ? -1 : cdataEnd + 3;
      } else {
        const close = source.indexOf('>', lt + 2);
        after = close === -1 ? -1 : close + 1;
      }
      if (after === -1) {
        end = lt;
        break;
      }
      if (current !== undefined) {
        if (lt > textStart) current.text += decodeEntities(source.slice(textStart, lt));
        if (cdataEnd !== -1) current.text += source.slice(lt + 9, cdataEnd);
      }
      pos = textStart = after;
      continue;
    }

    if (code === QUESTION) {
      const close = source.indexOf('?>', lt + 2);
      if (close === -1) {
        end = lt;
        break;
      }
      if (current !== undefined && lt > textStart) {
        current.text += decodeEntities(source.slice(textStart, lt));
      }
      pos = textStart = close + 2;
      continue;
    }

    // An element tag: `<` spaces? `/`? spaces? name …
    while (isSpace(code)) {
      if (++i === length) {
        end = lt;
        break scanning;
      }
      code = source.charCodeAt(i);
    }
    let closing = false;
    if (code === SLASH) {
      closing = true;
      do {
        if (++i === length) {
          end = lt;
          break scanning;
        }
        code = source.charCodeAt(i);
      } while (isSpace(code));
    }
    if (!isNameStart(code)) {
      pos = i; // a stray `<`: text
      continue;
    }
    const nameStart = i;
    do {
      if (++i === length) {
        end = lt;
        break scanning;
      }
      code = source.charCodeAt(i);
    } while (isNameChar(code));
    const nameEnd = i;
    let selfClosing = false;
    if (code === SLASH) {
      // `<name/>`, `<name/ >`
      do {
        if (++i === length) {
          end = lt;
          break scanning;
        }
        code = source.charCodeAt(i);
      } while (isSpace(code));
      if (code !== GT) {
        pos = i;
        continue;
      }
      selfClosing = true;
    } else if (code !== GT) {
      if (!isSpace(code)) {
        pos = i;
        continue;
      }
      // Attributes: anything but `<` up to the first `>`.
      do {
        if (++i === length) {
          end = lt;
          break scanning;
        }
        code = source.charCodeAt(i);
      } while (code !== GT && code !== LT);
      if (code === LT) {
        pos = i; // `<a x <b>`: the first `<` was text
        continue;
      }
      let last = i - 1;
      while (last > nameEnd && isSpace(source.charCodeAt(last))) last--;
      selfClosing = source.charCodeAt(last) === SLASH;
    }
    // `i` is at the tag's `>`.
    if (current !== undefined && lt > textStart) {
      current.text += decodeEntities(source.slice(textStart, lt));
    }
    pos = textStart = i + 1;
    const name = source.slice(nameStart, nameEnd).toLowerCase();

    if (closing) {
      if (current === undefined) continue;
      if (current.name !== name && !isOpen(stack, openCounts, name)) continue; // unmatched
      let popped: XmlElement;
      do {
        popped = stack.pop()!;
        popped.closed = true;
        openCounts?.set(popped.name, openCounts.get(popped.name)! - 1);
      } while (popped.name !== name);
      current = stack[stack.length - 1];
      if (current === undefined) break; // the root's end: the rest is ignored
      continue;
    }

    const element: XmlElement = { name, text: '', children: [], closed: selfClosing };
    if (current === undefined) {
      root = element; // the loop stops once a root is closed, so this is the first
    } else if (current.children.length === 0) {
      // A literal array of one is smaller than the first push's preallocated backing store.
      current.children = [element];
    } else {
      current.children.push(element);
    }
    if (selfClosing) {
      if (element === root) break;
      continue;
    }
    stack.push(element);
    if (openCounts !== undefined) openCounts.set(name, (openCounts.get(name) ?? 0) + 1);
    else if (stack.length > SCAN_DEPTH) openCounts = countNames(stack);
    current = element;
  }

  if (current !== undefined && end > textStart) {
    current.text += decodeEntities(source.slice(textStart, end));
  }
  return root;
}

/** Up to this depth a close tag looks for its open element by walking the stack. */
const SCAN_DEPTH = 16;

function isOpen(
  stack: readonly XmlElement[],
  openCounts: Map<string, number> | undefined,
  name: string,
): boolean {
  if (openCounts !== undefined) return (openCounts.get(name) ?? 0) > 0;
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.name === name) return true;
  return false;
}

function countNames(stack: readonly XmlElement[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const element of stack) counts.set(element.name, (counts.get(element.name) ?? 0) + 1);
  return counts;
}

/** The length of each named entity after its `&`, by the character it stands for. */
const NAMED_LENGTH: Record<string, number> = { '<': 3, '>': 3, '&': 4, '"': 5, "'": 5 };

/** The character of `lt;` `gt;` `amp;` `quot;` `apos;` at `at`, or `undefined`. */
function namedEntityAt(text: string, at: number): string | undefined {
  switch (text.charCodeAt(at)) {
    case 0x6c /* l */:
      return text.startsWith('t;', at + 1) ? '<' : undefined;
    case 0x67 /* g */:
      return text.startsWith('t;', at + 1) ? '>' : undefined;
    case 0x61 /* a */:
      if (text.startsWith('mp;', at + 1)) return '&';
      return text.startsWith('pos;', at + 1) ? "'" : undefined;
    case 0x71 /* q */:
      return text.startsWith('uot;', at + 1) ? '"' : undefined;
    default:
      return undefined;
  }
}

const MAX_CODE_POINT = 0x10ffff;

/**
 * Decodes `&lt;` `&gt;` `&amp;` `&quot;` `&apos;`, `&#NNN;` and `&#xHHH;` (lower-case `x`)
 * in one pass. A numeric reference to 0 or beyond U+10FFFF stays as it is, and so does
 * anything else after a `&`.
 */
function decodeEntities(text: string): string {
  let amp = text.indexOf('&');
  if (amp === -1) return text;
  let out = '';
  let copied = 0;
  while (amp !== -1) {
    let next = amp + 1;
    let decoded: string | undefined;
    let matchEnd = -1;
    if (text.charCodeAt(amp + 1) === 0x23 /* # */) {
      const hex = text.charCodeAt(amp + 2) === 0x78; /* x */
      let i = hex ? amp + 3 : amp + 2;
      const digitsStart = i;
      let value = 0;
      for (; i < text.length; i++) {
        const code = text.charCodeAt(i);
        let digit: number;
        if (code >= 0x30 && code <= 0x39) digit = code - 0x30;
        else if (hex && code >= 0x61 && code <= 0x66) digit = code - 0x57;
        else if (hex && code >= 0x41 && code <= 0x46) digit = code - 0x37;
        else break;
        // Saturate: the exact value of a long run does not matter once it is too large.
        if (value <= MAX_CODE_POINT) value = value * (hex ? 16 : 10) + digit;
      }
      if (i > digitsStart && text.charCodeAt(i) === 0x3b /* ; */) {
        matchEnd = i + 1;
        if (value > 0 && value <= MAX_CODE_POINT) decoded = String.fromCodePoint(value);
      }
    } else {
      decoded = namedEntityAt(text, amp + 1);
      if (decoded !== undefined) matchEnd = amp + 1 + NAMED_LENGTH[decoded]!;
    }
    if (matchEnd !== -1) {
      if (decoded !== undefined) {
        out += text.slice(copied, amp) + decoded;
        copied = matchEnd;
      }
      next = matchEnd;
    }
    amp = text.indexOf('&', next);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** The trimmed text of the first child called `name`, or `undefined`. */
export function childText(element: XmlElement, name: string): string | undefined {
  for (const child of element.children) if (child.name === name) return child.text.trim();
  return undefined;
}

/** The children called `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

/** A flat record of every leaf child's trimmed text, keyed by lower-cased name. */
export function leafFields(element: XmlElement): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const child of element.children) {
    if (child.children.length === 0 && !(child.name in fields))
      fields[child.name] = child.text.trim();
  }
  return fields;
}
