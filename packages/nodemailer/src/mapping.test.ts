import { SmsError } from '@sms/core';
import { describe, expect, it } from 'vitest';
import { nodemailerCode, toTransportError } from './errors.js';
import {
  htmlToText,
  parseSendTimeHeader,
  partitionRecipients,
  readHeader,
  recipientEntries,
  splitAddressList,
} from './mapping.js';

describe('partitionRecipients', () => {
  it('takes bare numbers, @sms addresses, display names and comma lists', () => {
    const result = partitionRecipients([
      { name: '13800138000', address: '' },
      { name: '', address: '13800138001@sms' },
      { name: '张三', address: '13800138002' },
      { name: '138 0013 8003', address: '' },
      { name: '+86 138-0013-8004', address: '' },
      '13800138005，13800138006, 0086 13800138007',
    ]);
    expect(result.accepted).toEqual([
      '13800138000',
      '13800138001',
      '13800138002',
      '13800138003',
      '13800138004',
      '13800138005',
      '13800138006',
      '13800138007',
    ]);
    expect(result.rejected).toEqual([]);
  });

  it('rejects e-mail addresses and malformed numbers as written, and drops duplicates', () => {
    const result = partitionRecipients([
      'someone@example.com',
      '13800138000@example.com',
      '1380013800x',
      '12800138000',
      '13800138000@SMS',
      '+8613800138000',
      null,
    ]);
    expect(result.accepted).toEqual(['13800138000']);
    expect(result.rejected).toEqual([
      'someone@example.com',
      '13800138000@example.com',
      '1380013800x',
      '12800138000',
    ]);
  });
});

describe('recipientEntries', () => {
  it('splits lists outside quotes and angle brackets and keeps the bracketed address', () => {
    expect(
      splitAddressList('13800138000, "Zhang, San" <13800138001>，李四 <13800138002@sms>; '),
    ).toEqual(['13800138000', '13800138001', '13800138002@sms']);
    expect(
      recipientEntries([
        '13800138000',
        { name: '王五', address: '13800138003' },
        ['13800138004, 13800138005'],
        null,
        false,
      ]),
    ).toEqual([
      '13800138000',
      { name: '王五', address: '13800138003' },
      '13800138004',
      '13800138005',
    ]);
  });
});

describe('htmlToText', () => {
  it('keeps the words, line breaks and link targets, drops markup', () => {
    const html =
      '<html><head><title>t</title><style>p{}</style></head><body>' +
      '<p>您的验证码是 <b>1234</b>&nbsp;，5 分钟内有效。</p>' +
      '<!-- hidden --><script>alert(1)</script>' +
      '<div>详情：<a href="https://e.cn/x?a=1&amp;b=2">点此</a><br/>谢谢 &amp; 再见 &#x1F600;</div></body></html>';
    expect(htmlToText(html)).toBe(
      '您的验证码是 1234 ，5 分钟内有效。\n详情：点此 https://e.cn/x?a=1&b=2\n谢谢 & 再见 😀',
    );
  });

  it('does not repeat a link whose text is its target, and ignores non-web links', () => {
    expect(htmlToText('<a href="https://e.cn">https://e.cn</a> <a href="tel:10086">call</a>')).toBe(
      'https://e.cn call',
    );
  });
});

describe('readHeader', () => {
  it('reads object and list headers case-insensitively', () => {
    expect(readHeader({ 'x-sms-ext-no': '01' }, 'X-SMS-Ext-No')).toBe('01');
    expect(readHeader({ 'X-SMS-Ext-No': ['02', '03'] }, 'x-sms-ext-no')).toBe('02');
    expect(readHeader({ 'X-SMS-Ext-No': { prepared: true, value: '04' } }, 'x-sms-ext-no')).toBe(
      '04',
    );
    expect(readHeader([{ key: 'X-SMS-EXT-NO', value: '05' }], 'x-sms-ext-no')).toBe('05');
    expect(readHeader({ 'X-SMS-Ext-No': '  ' }, 'x-sms-ext-no')).toBeUndefined();
    expect(readHeader(undefined, 'x-sms-ext-no')).toBeUndefined();
  });
});

describe('parseSendTimeHeader', () => {
  it('passes the platform format through and reads ISO 8601 with a zone as an instant', () => {
    expect(parseSendTimeHeader('2030-01-02 08:00:00')).toBe('2030-01-02 08:00:00');
    expect(parseSendTimeHeader('2030-01-02T00:00:00Z')).toEqual(new Date('2030-01-02T00:00:00Z'));
    expect(parseSendTimeHeader('2030-01-02T08:00:00+08:00')).toEqual(
      new Date('2030-01-02T00:00:00Z'),
    );
  });
});

describe('error codes', () => {
  const error = (code: SmsError['code'], field?: string) =>
    new SmsError('x', { code, field, action: 'send' });

  it('maps every SmsError code to the Nodemailer code a mail app already handles', () => {
    expect(nodemailerCode(error('AUTH_FAILED'))).toBe('EAUTH');
    expect(nodemailerCode(error('AUTH_MISSING'))).toBe('EAUTH');
    expect(nodemailerCode(error('MOBILE_EMPTY'))).toBe('EENVELOPE');
    expect(nodemailerCode(error('VALIDATION', 'mobiles'))).toBe('EENVELOPE');
    expect(nodemailerCode(error('ILLEGAL_KEYWORD'))).toBe('EMESSAGE');
    expect(nodemailerCode(error('SIGNATURE_REQUIRED'))).toBe('EMESSAGE');
    expect(nodemailerCode(error('CONTENT_EMPTY'))).toBe('EMESSAGE');
    expect(nodemailerCode(error('SQL_INJECTION'))).toBe('EMESSAGE');
    expect(nodemailerCode(error('INSUFFICIENT_BALANCE'))).toBe('EMESSAGE');
    expect(nodemailerCode(error('VALIDATION', 'content'))).toBe('EMESSAGE');
    expect(nodemailerCode(error('VALIDATION', 'sendTime'))).toBe('EMESSAGE');
    expect(nodemailerCode(error('VALIDATION', 'baseUrl'))).toBe('ECONFIG');
    expect(nodemailerCode(error('TIMEOUT'))).toBe('ETIMEDOUT');
    expect(nodemailerCode(error('UNKNOWN_OUTCOME'))).toBe('ETIMEDOUT');
    expect(nodemailerCode(error('NETWORK'))).toBe('ECONNECTION');
    expect(nodemailerCode(error('HTTP'))).toBe('EPROTOCOL');
    expect(nodemailerCode(error('PROTOCOL'))).toBe('EPROTOCOL');
  });

  it('keeps the SmsError as cause and the platform answer as response', () => {
    const cause = new SmsError('refused', {
      code: 'ILLEGAL_KEYWORD',
      action: 'send',
      platformMessage: '包含非法字符：赌博',
      status: 200,
      words: ['赌博'],
    });
    const wrapped = toTransportError(cause, 'send');
    expect(wrapped.code).toBe('EMESSAGE');
    expect(wrapped.cause).toBe(cause);
    expect(wrapped.response).toBe('包含非法字符：赌博');
    expect(wrapped.responseCode).toBe(200);
    expect(wrapped.command).toBe('send');
  });
});
