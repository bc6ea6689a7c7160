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
  const tree = new TreeSink(text);
  scanXml(text, tree);
  return tree.root;
}

/**
 * What the scanner reports, in document order. Text comes only while an element is open
 * (text before the root is ignored), and the scanner stops at the root's end.
 */
export interface ScanSink {
  /** An element starts (a self-closing one is followed at once by its `close`). */
  open(name: string): void;
  /** A run of text in the innermost open element, `source[start, end)`, entities not yet decoded. */
  text(start: number, end: number): void;
  /** A CDATA section's content in the innermost open element, `source[start, end)`, literal. */
  cdata(start: number, end: number): void;
  /** The innermost open element is complete (its end tag, an enclosing end tag, or `/>`). */
  close(): void;
}

/** Builds the `XmlElement` tree of `readXml` and `readXmlPartial`. */
class TreeSink implements ScanSink {
  root: XmlElement | undefined;
  private readonly stack: XmlElement[] = [];
  private current: XmlElement | undefined;

  constructor(private readonly source: string) {}

  open(name: string): void {
    const element: XmlElement = { name, text: '', children: [], closed: false };
    const parent = this.current;
    if (parent === undefined) this.root = element;
    // A literal array of one is smaller than the first push's preallocated backing store.
    else if (parent.children.length === 0) parent.children = [element];
    else parent.children.push(element);
    this.stack.push(element);
    this.current = element;
  }

  text(start: number, end: number): void {
    this.current!.text += decodeEntities(this.source.slice(start, end));
  }

  cdata(start: number, end: number): void {
    this.current!.text += this.source.slice(start, end);
  }

  close(): void {
    this.stack.pop()!.closed = true;
    this.current = this.stack[this.stack.length - 1];
  }
}

// Character codes.
const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f; // /
const BANG = 0x21; // !
const QUESTION = 0x3f; // ?

/** JavaScript's `\s` (WhiteSpace and LineTerminator): what `String.prototype.trim` removes. */
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

/**
 * Lower-cased tag names, shared between reads: a name seen before costs a comparison, not
 * a new string (an answer repeats a dozen names thousands of times). Direct-mapped by a
 * hash of the name; only short names are kept, copied flat, so the cache never holds on
 * to a response body.
 */
const NAME_SLOTS = 512;
const MAX_CACHED_NAME = 32;
const nameCache: string[] = new Array<string>(NAME_SLOTS).fill('');

/** The protocol's own names, seeded as literals (V8 keys objects by these without a lookup). */
for (const name of [
  'returnsms',
  'returnstatus',
  'message',
  'remainpoint',
  'taskid',
  'successcounts',
  'payinfo',
  'overage',
  'sendtotal',
  'checkcounts',
  'statusbox',
  'callbox',
  'mobile',
  'status',
  'receivetime',
  'errorcode',
  'extno',
  'content',
  'errorstatus',
  'error',
  'remark',
]) {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = nameHash(hash, name.charCodeAt(i));
  nameCache[hash & (NAME_SLOTS - 1)] = name;
}

/** Names are ASCII (`isNameChar`): lower-casing is `| 0x20` on letters, and the hash uses it for all. */
function nameHash(hash: number, code: number): number {
  return (Math.imul(hash, 31) + (code | 0x20)) | 0;
}

function lowerAscii(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}

function tagName(source: string, start: number, end: number, hash: number): string {
  const length = end - start;
  if (length > MAX_CACHED_NAME) return source.slice(start, end).toLowerCase();
  const slot = hash & (NAME_SLOTS - 1);
  const cached = nameCache[slot]!;
  if (cached.length === length) {
    let k = 0;
    while (k < length && lowerAscii(source.charCodeAt(start + k)) === cached.charCodeAt(k)) k++;
    if (k === length) return cached;
  }
  const codes: number[] = [];
  for (let k = start; k < end; k++) codes.push(lowerAscii(source.charCodeAt(k)));
  const name = String.fromCharCode(...codes);
  nameCache[slot] = name;
  return name;
}

/**
 * The scanner behind every read: one pass over `source`, reporting elements and text to
 * `sink` (see the file comment for what it accepts). Linear in the size of `source`.
 */
export function scanXml(source: string, sink: ScanSink): void {
  const length = source.length;
  /** Names of the open elements, outermost first. */
  const stack: string[] = [];
  /**
   * How many elements of each name are open, kept once the stack has been deeper than
   * `SCAN_DEPTH`: a close tag with no open element of its name then costs O(1) instead of a
   * walk down a deep stack (`<a>` x 50,000 then `</b>` x 50,000 would be quadratic).
   */
  let openCounts: Map<string, number> | undefined;
  /** Start of the text not yet given to the sink. */
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
      if (stack.length > 0) {
        if (lt > textStart) sink.text(textStart, lt);
        if (cdataEnd > lt + 9) sink.cdata(lt + 9, cdataEnd);
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
      if (stack.length > 0 && lt > textStart) sink.text(textStart, lt);
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
    let hash = 0;
    do {
      hash = nameHash(hash, code);
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
    if (stack.length > 0 && lt > textStart) sink.text(textStart, lt);
    pos = textStart = i + 1;
    const name = tagName(source, nameStart, nameEnd, hash);

    if (closing) {
      const depth = stack.length;
      if (depth === 0) continue;
      if (stack[depth - 1] !== name && !isOpen(stack, openCounts, name)) continue; // unmatched
      let popped: string;
      do {
        popped = stack.pop()!;
        sink.close();
        openCounts?.set(popped, openCounts.get(popped)! - 1);
      } while (popped !== name);
      if (stack.length === 0) return; // the root's end: the rest is ignored
      continue;
    }

    sink.open(name);
    if (selfClosing) {
      sink.close();
      if (stack.length === 0) return; // a self-closing root
      continue;
    }
    stack.push(name);
    if (openCounts !== undefined) openCounts.set(name, (openCounts.get(name) ?? 0) + 1);
    else if (stack.length > SCAN_DEPTH) openCounts = countNames(stack);
  }

  if (stack.length > 0 && end > textStart) sink.text(textStart, end);
}

/** What `readLeafFields` found. */
export interface LeafFieldsRead {
  /** The root element's name; `undefined` when there is no root element. */
  root: string | undefined;
  /** Whether the root's end tag arrived. */
  rootClosed: boolean;
  /** `leafFields(root)`, complete when `rootClosed` (the send-family answers are flat). */
  fields: Record<string, string>;
}

/**
 * The root's name and, without building the tree, `leafFields` of it: what
 * `leafFields(readXml(source))` gives whenever `readXml` does not throw (`rootClosed`).
 */
export function readLeafFields(source: string): LeafFieldsRead {
  const text = typeof source === 'string' ? source : String(source);
  const sink = new LeafFieldsSink(text);
  scanXml(text, sink);
  return { root: sink.root, rootClosed: sink.rootClosed, fields: sink.fields };
}

class LeafFieldsSink implements ScanSink {
  root: string | undefined;
  rootClosed = false;
  readonly fields: Record<string, string> = {};
  private depth = -1;
  /** The root child being read: its name, whether it is still a leaf, its text so far. */
  private name = '';
  private leaf = true;
  private value = '';

  constructor(private readonly source: string) {}

  open(name: string): void {
    const depth = ++this.depth;
    if (depth === 0) {
      this.root = name;
    } else if (depth === 1) {
      this.name = name;
      this.leaf = true;
      this.value = '';
    } else if (depth === 2) {
      this.leaf = false;
    }
  }

  text(start: number, end: number): void {
    if (this.depth === 1 && this.leaf) this.value += decodeEntities(this.source.slice(start, end));
  }

  cdata(start: number, end: number): void {
    if (this.depth === 1 && this.leaf) this.value += this.source.slice(start, end);
  }

  close(): void {
    const depth = this.depth--;
    if (depth === 0) this.rootClosed = true;
    else if (depth === 1 && this.leaf && !(this.name in this.fields)) {
      this.fields[this.name] = this.value.trim();
    }
  }
}

/** How `readRecords` reads a pull answer: which children of the root are records, and what of them. */
export interface RecordShape<T> {
  /** The name of the root's children that are records (`statusbox`). */
  box: string;
  /** The record fields, lower-case: `build` gets each one's value at its index here. */
  fields: readonly string[];
  /**
   * Makes a record of the trimmed text of the box's first leaf child of each field name
   * (`undefined` where there is none): what `leafFields` gives, without building the tree.
   * The array is reused: read it, do not keep it.
   */
  build(values: ReadonlyArray<string | undefined>): T;
  /**
   * Other elements to read: a root child's name (`returnstatus`), or `parent/child` for a
   * child of such an element (`errorstatus/error`). Each is the trimmed text of the first
   * element of that name, as `childText` reads it.
   */
  captures: readonly string[];
}

export interface RecordsRead<T> {
  /** The root element's name; `undefined` when there is no root element. */
  root: string | undefined;
  /** Whether the root's end tag arrived (`false` for a truncated body). */
  rootClosed: boolean;
  /** A record for every box that is complete (`closed`), in document order. */
  records: T[];
  /** Boxes whose end never arrived (the body ended inside one). */
  incomplete: number;
  /** The text of each of `captures`, in that order; `undefined` where there is no such element. */
  captured: Array<string | undefined>;
}

/**
 * Reads a pull answer's records in one pass, without an element tree: exactly the records
 * `leafFields` would read from the closed boxes of `readXmlPartial(source)`, and the same
 * salvage of a truncated body, for a fraction of the allocations.
 */
export function readRecords<T>(source: string, shape: RecordShape<T>): RecordsRead<T> {
  const text = typeof source === 'string' ? source : String(source);
  const sink = new RecordSink(text, shape);
  scanXml(text, sink);
  return sink.result();
}

/** Where each of `RecordShape.captures` sits: its index, by parent capture (-1: the root). */
interface CapturePlan {
  index: number;
  parent: number;
  name: string;
}

class RecordSink<T> implements ScanSink {
  private root: string | undefined;
  private rootClosed = false;
  private readonly records: T[] = [];
  private readonly captured: Array<string | undefined>;
  private readonly plans: CapturePlan[];
  private readonly values: Array<string | undefined>;
  /** Depth of the innermost open element (the root is 0). */
  private depth = -1;
  private inBox = false;
  /** Index in `fields` of the box child being read, or -1 when it is not wanted. */
  private field = -1;
  /** False once the box child has a child element: not a leaf, so not a field. */
  private fieldLeaf = true;
  /** The box child's text so far, when it is more than one plain run. */
  private fieldText = '';
  /** The box child's only run so far, undecoded (it has no `&`), as `source[runStart, runEnd)`. */
  private runStart = -1;
  private runEnd = -1;
  /** Captures being read at depth 1 and 2, or -1. */
  private capture1 = -1;
  private capture2 = -1;
  /** Position of the next `&` at or after the last text run looked at (`length` if none). */
  private nextAmp = -1;

  constructor(
    private readonly source: string,
    private readonly shape: RecordShape<T>,
  ) {
    this.values = new Array<string | undefined>(shape.fields.length).fill(undefined);
    this.captured = new Array<string | undefined>(shape.captures.length).fill(undefined);
    this.plans = shape.captures.map((path, index) => {
      const slash = path.indexOf('/');
      if (slash === -1) return { index, parent: -1, name: path };
      return {
        index,
        parent: shape.captures.indexOf(path.slice(0, slash)),
        name: path.slice(slash + 1),
      };
    });
  }

  open(name: string): void {
    const depth = ++this.depth;
    if (depth === 0) {
      this.root = name;
    } else if (depth === 1) {
      if (name === this.shape.box) {
        this.inBox = true;
        this.values.fill(undefined);
      } else {
        this.capture1 = this.startCapture(-1, name);
      }
    } else if (this.inBox) {
      if (depth === 2) {
        const field = this.shape.fields.indexOf(name);
        // A field already read keeps its first value (`leafFields` keeps the first leaf).
        this.field = field !== -1 && this.values[field] === undefined ? field : -1;
        this.fieldLeaf = true;
        this.fieldText = '';
        this.runStart = -1;
      } else if (depth === 3) {
        this.fieldLeaf = false;
      }
    } else if (depth === 2 && this.capture1 !== -1) {
      this.capture2 = this.startCapture(this.capture1, name);
    }
  }

  /** The capture `name` under `parent` starts here if it is wanted and the first of its name. */
  private startCapture(parent: number, name: string): number {
    for (const plan of this.plans) {
      if (plan.parent === parent && plan.name === name) {
        if (this.captured[plan.index] !== undefined) return -1;
        this.captured[plan.index] = '';
        return plan.index;
      }
    }
    return -1;
  }

  text(start: number, end: number): void {
    const depth = this.depth;
    if (this.inBox) {
      if (depth !== 2 || this.field === -1 || !this.fieldLeaf) return;
      if (this.runStart === -1 && this.fieldText === '' && !this.hasAmp(start, end)) {
        this.runStart = start;
        this.runEnd = end;
        return;
      }
      this.flattenRun();
      this.fieldText += decodeEntities(this.source.slice(start, end));
      return;
    }
    const capture = depth === 1 ? this.capture1 : depth === 2 ? this.capture2 : -1;
    if (capture !== -1) this.captured[capture] += decodeEntities(this.source.slice(start, end));
  }

  cdata(start: number, end: number): void {
    const depth = this.depth;
    if (this.inBox) {
      if (depth !== 2 || this.field === -1 || !this.fieldLeaf) return;
      this.flattenRun();
      this.fieldText += this.source.slice(start, end);
      return;
    }
    const capture = depth === 1 ? this.capture1 : depth === 2 ? this.capture2 : -1;
    if (capture !== -1) this.captured[capture] += this.source.slice(start, end);
  }

  close(): void {
    const depth = this.depth--;
    if (depth === 0) {
      this.rootClosed = true;
    } else if (depth === 1) {
      if (this.inBox) {
        this.inBox = false;
        this.records.push(this.shape.build(this.values));
      }
      this.capture1 = -1;
    } else if (depth === 2) {
      if (this.inBox && this.field !== -1 && this.fieldLeaf) {
        this.values[this.field] = this.runStart !== -1 ? this.trimmedRun() : this.fieldText.trim();
      }
      this.field = -1;
      this.capture2 = -1;
    }
  }

  result(): RecordsRead<T> {
    return {
      root: this.root,
      rootClosed: this.rootClosed,
      records: this.records,
      incomplete: this.inBox ? 1 : 0,
      captured: this.captured.map((text) => text?.trim()),
    };
  }

  /** Whether `source[start, end)` holds a `&`; linear over all the runs of one read. */
  private hasAmp(start: number, end: number): boolean {
    if (this.nextAmp < start) {
      const amp = this.source.indexOf('&', start);
      this.nextAmp = amp === -1 ? this.source.length : amp;
    }
    return this.nextAmp < end;
  }

  private flattenRun(): void {
    if (this.runStart === -1) return;
    this.fieldText = this.source.slice(this.runStart, this.runEnd);
    this.runStart = -1;
  }

  /** `source.slice(runStart, runEnd).trim()` without the untrimmed copy. */
  private trimmedRun(): string {
    let start = this.runStart;
    let end = this.runEnd;
    while (start < end && isSpace(this.source.charCodeAt(start))) start++;
    while (end > start && isSpace(this.source.charCodeAt(end - 1))) end--;
    return this.source.slice(start, end);
  }
}

/** Up to this depth a close tag looks for its open element by walking the stack. */
const SCAN_DEPTH = 16;

function isOpen(
  stack: readonly string[],
  openCounts: Map<string, number> | undefined,
  name: string,
): boolean {
  if (openCounts !== undefined) return (openCounts.get(name) ?? 0) > 0;
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i] === name) return true;
  return false;
}

function countNames(stack: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of stack) counts.set(name, (counts.get(name) ?? 0) + 1);
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
