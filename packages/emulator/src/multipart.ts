/**
 * `multipart/form-data` bodies, which ASP.NET reads into `Request.Form` like any form
 * (PHP's curl sends them when given an array). Values are decoded in the part's own
 * charset if it names one, else the endpoint's.
 */
import { decodeBytes } from '@sms/core';

const BOUNDARY = /boundary=(?:"([^"]+)"|([^;\s]+))/i;
const NAME = /\bname="([^"]*)"/i;
const PART_CHARSET = /charset=["']?([\w.:-]+)/i;

export function isMultipart(contentType: string): boolean {
  return /^\s*multipart\/form-data/i.test(contentType);
}

/** The fields of a multipart body (lower-cased names, first value wins); empty if unreadable. */
export function parseMultipart(
  body: Buffer,
  contentType: string,
  charset: string,
): Map<string, string> {
  const fields = new Map<string, string>();
  const match = BOUNDARY.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) return fields;
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const partStart = start + delimiter.length;
    // `--boundary--` closes the body.
    if (body[partStart] === 0x2d && body[partStart + 1] === 0x2d) break;
    const next = body.indexOf(delimiter, partStart);
    if (next === -1) break;
    const part = body.subarray(partStart, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('latin1');
      let value = part.subarray(headerEnd + 4);
      if (
        value.length >= 2 &&
        value[value.length - 2] === 0x0d &&
        value[value.length - 1] === 0x0a
      ) {
        value = value.subarray(0, value.length - 2);
      }
      const name = NAME.exec(headers)?.[1];
      if (name !== undefined) {
        const key = decodeBytes(Buffer.from(name, 'latin1'), charset).trim().toLowerCase();
        const label = PART_CHARSET.exec(headers)?.[1] ?? charset;
        if (!fields.has(key)) fields.set(key, decodeBytes(value, label));
      }
    }
    start = next;
  }
  return fields;
}
