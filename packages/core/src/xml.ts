/**
 * A small, tolerant reader for the platform's flat XML answers. Real servers send
 * whitespace inside tags (`< checkCounts >`, `</userid >`), CRLF before the root, single
 * quoted declarations and extra elements, so a strict parser is the wrong tool. Every
 * value stays a string: extno `01` and 16-digit taskIDs must survive exactly.
 */

export interface XmlElement {
  /** Lower-cased tag name (the platform's casing varies: `taskID`, `taskid`). */
  name: string;
  text: string;
  children: XmlElement[];
}

export class XmlReadError extends Error {
  override readonly name = 'XmlReadError';
}

const TOKEN =
  /<\s*(\/)?\s*([A-Za-z_][\w:.-]*)((?:\s+[^<>]*?)?)\s*(\/)?\s*>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<![^>]*>/g;

const ENTITY = /&(?:#(\d+)|#x([0-9a-fA-F]+)|(lt|gt|amp|quot|apos));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (whole, dec?: string, hex?: string, named?: string) => {
    if (named) return NAMED[named] ?? whole;
    const code = dec ? Number(dec) : Number.parseInt(hex ?? '', 16);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/**
 * Reads a document into its root element. Throws `XmlReadError` when there is no root
 * element or it is never closed (a truncated body).
 */
export function readXml(source: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let closedRoot = false;
  let last = 0;
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(source); match !== null; match = TOKEN.exec(source)) {
    const current = stack[stack.length - 1];
    if (current && match.index > last) current.text += source.slice(last, match.index);
    last = TOKEN.lastIndex;
    const [, closing, rawName, , selfClosing, cdata] = match;
    if (cdata !== undefined) {
      if (current) current.text += cdata;
      continue;
    }
    if (rawName === undefined) continue;
    const name = rawName.toLowerCase();
    if (closing) {
      const index = findOpen(stack, name);
      if (index === -1) continue;
      for (const element of stack.splice(index)) element.text = decodeEntities(element.text);
      if (stack.length === 0) {
        closedRoot = true;
        break;
      }
      continue;
    }
    const element: XmlElement = { name, text: '', children: [] };
    if (current) current.children.push(element);
    else if (root) continue;
    else root = element;
    if (selfClosing) {
      if (element === root) {
        closedRoot = true;
        break;
      }
    } else stack.push(element);
  }
  if (!root) throw new XmlReadError('no XML root element');
  if (!closedRoot) throw new XmlReadError(`<${root.name}> is never closed (truncated body?)`);
  return root;
}

function findOpen(stack: XmlElement[], name: string): number {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.name === name) return i;
  return -1;
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
