import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeResponse } from './charset.js';
import { SmsError } from './errors.js';
import {
  parseBalanceResponse,
  parseChangePasswordResponse,
  parseCheckKeywordResponse,
  parseRepliesResponse,
  parseReportsResponse,
  parseSendResponse,
} from './protocol.js';

const parsers = {
  parseSendResponse,
  parseBalanceResponse,
  parseCheckKeywordResponse,
  parseChangePasswordResponse,
  parseReportsResponse,
  parseRepliesResponse,
};

const fragments = fc.constantFrom(
  '<?xml version="1.0" encoding="utf-8" ?>',
  '<returnsms>',
  '</returnsms>',
  '<returnsms/>',
  '<returnstatus>Success</returnstatus>',
  '<returnstatus>Faild</returnstatus>',
  '<message>ok</message>',
  '<statusbox>',
  '</statusbox>',
  '<callbox>',
  '<errorstatus><error>9</error>',
  '<status>10</status>',
  '<payinfo>预付费</payinfo>',
  '&amp;',
  '&#99999999;',
  '<![CDATA[',
  '<!--',
  '\r\n',
  '< ',
  '>',
);

describe('every parser, fed anything', () => {
  for (const [name, parse] of Object.entries(parsers)) {
    it(`${name} returns a result or throws an SmsError`, () => {
      const input = fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((bytes) => decodeResponse(bytes, undefined, 'utf-8')),
        fc.array(fragments, { maxLength: 25 }).map((parts) => parts.join('')),
        fc.string({ maxLength: 200 }),
      );
      fc.assert(
        fc.property(input, (text) => {
          try {
            parse(text);
          } catch (error) {
            expect(error).toBeInstanceOf(SmsError);
          }
        }),
        { numRuns: 1500 },
      );
    });
  }
});
