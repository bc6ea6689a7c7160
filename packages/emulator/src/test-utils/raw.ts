/**
 * Raw HTTP for the tests: requests written from the interface text with node:http and
 * hand-built form bodies, never through @sms/core's client or encoders, so a misreading
 * shared by client and emulator cannot hide here.
 */
import { request as httpRequest } from 'node:http';
import iconv from 'iconv-lite';

export type Charset = 'utf-8' | 'gbk';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  contentType: string;
  bytes: Buffer;
  /** The body decoded by the charset of the Content-Type header. */
  text: string;
}

function percent(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Percent-encodes a value as UTF-8 or GBK bytes (GBK through iconv-lite). */
export function encodeValue(value: string, charset: Charset): string {
  return percent(charset === 'gbk' ? iconv.encode(value, 'gbk') : Buffer.from(value, 'utf8'));
}

/** `name=value&…` with values percent-encoded in `charset`. */
export function form(fields: Record<string, string>, charset: Charset = 'utf-8'): string {
  return Object.entries(fields)
    .map(([name, value]) => `${name}=${encodeValue(value, charset)}`)
    .join('&');
}

export interface RawRequest {
  method?: string;
  /** Path and query, e.g. `/sms.aspx?action=send`. */
  path: string;
  body?: string | Buffer;
  /** Default for a body: `application/x-www-form-urlencoded`. `null` sends none. */
  contentType?: string | null;
  /** More request headers (`Origin`, `Host`, …). */
  headers?: Record<string, string>;
}

export function raw(baseUrl: string, options: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? Buffer.from(options.body, 'latin1')
        : options.body;
  const headers: Record<string, string | number> = { ...options.headers };
  if (body) {
    headers['content-length'] = body.length;
    if (options.contentType !== null) {
      headers['content-type'] = options.contentType ?? 'application/x-www-form-urlencoded';
    }
  } else if (typeof options.contentType === 'string') {
    headers['content-type'] = options.contentType;
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? (body ? 'POST' : 'GET'),
        path: options.path,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const contentType = String(res.headers['content-type'] ?? '');
          const charset = /charset=([\w-]+)/i.exec(contentType)?.[1]?.toLowerCase() ?? 'utf-8';
          const text = ['gb2312', 'gbk', 'gb18030'].includes(charset)
            ? iconv.decode(bytes, 'gbk')
            : bytes.toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, contentType, bytes, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs a form built from `fields` in `charset` to `path`. */
export function post(
  baseUrl: string,
  path: string,
  fields: Record<string, string>,
  charset: Charset = 'utf-8',
): Promise<RawResponse> {
  return raw(baseUrl, { path, body: form(fields, charset) });
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The text of the first `<name>` element (tolerant of spaces inside tags); undefined if absent. */
export function tag(xml: string, name: string): string | undefined {
  const match = new RegExp(`<\\s*${name}\\s*>([\\s\\S]*?)<\\s*/\\s*${name}\\s*>`).exec(xml);
  return match ? unescapeXml(match[1]!) : undefined;
}

/** Every `<box>` element as a record of its leaf children. */
export function boxes(xml: string, box: 'statusbox' | 'callbox'): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const match of xml.matchAll(new RegExp(`<${box}>([\\s\\S]*?)</${box}\\s*>`, 'g'))) {
    const record: Record<string, string> = {};
    for (const leaf of match[1]!.matchAll(/<\s*(\w+)\s*>([^<]*)<\s*\/\s*\1\s*>/g)) {
      record[leaf[1]!] = unescapeXml(leaf[2]!);
    }
    out.push(record);
  }
  return out;
}

/** Checks the spec's envelope: XML declaration, then one `<returnsms>` root. */
export function isReturnSms(xml: string): boolean {
  return /^<\?xml version="1\.0" encoding="utf-8" \?>\s*<returnsms>[\s\S]*<\/returnsms>$/.test(xml);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await sleep(20);
  }
}

/** A `multipart/form-data` body (as PHP's curl sends an array), values in `charset`. */
export function multipart(
  fields: Record<string, string>,
  charset: Charset = 'utf-8',
): { body: Buffer; contentType: string } {
  const boundary = '----smsEmulatorBoundary7MA4YWxk';
  const parts = Object.entries(fields).map(([name, value]) =>
    Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`,
        'latin1',
      ),
      charset === 'gbk' ? iconv.encode(value, 'gbk') : Buffer.from(value, 'utf8'),
      Buffer.from('\r\n', 'latin1'),
    ]),
  );
  return {
    body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`, 'latin1')]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
