import { encodeFormValue } from '@sms/core';

/** The spellings an attacker-controlled or careless server may echo a password in. */
export function spellings(secret: string): string[] {
  const utf8 = encodeFormValue(secret, 'utf-8');
  const form = new URLSearchParams({ p: secret }).toString().slice(2);
  const lower = (text: string) => text.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
  const all = [secret, utf8, lower(utf8), utf8.replace(/%20/g, '+'), form, lower(form)];
  try {
    const gbk = encodeFormValue(secret, 'gbk');
    all.push(gbk, lower(gbk), gbk.replace(/%20/g, '+'));
  } catch {
    // Not encodable in GBK: never sent as GBK either.
  }
  all.push(JSON.stringify(secret).slice(1, -1));
  all.push(secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;'));
  return [...new Set(all)];
}
