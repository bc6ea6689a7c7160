import { describe, expect, it } from 'vitest';
import { type SendRequest, requestHash } from './request.js';

// The hash an idempotent retry is compared with may have been stored by an earlier version
// (a retry after an upgrade): these are the hashes that version computed for these requests.

const full: SendRequest = {
  account: 'main',
  route: ['backup'],
  mobiles: ['13800138000', '13900139000'],
  content: '【测试】验证码 123456，5分钟内有效',
  sendAt: 1798761600000,
  extNo: '01',
  metadata: '{"order":"A-1","tags":["x","y"]}',
  callbackUrl: 'http://127.0.0.1:9/sms',
  ttlMs: 600000,
};
const bare: SendRequest = {
  account: 'main',
  route: [],
  mobiles: ['13800138000'],
  content: 'hi "quoted" \\ \n',
  sendAt: null,
  extNo: '',
  metadata: null,
  callbackUrl: null,
  ttlMs: null,
};

describe('requestHash', () => {
  it('is the hash earlier versions stored for the same request', () => {
    expect(requestHash(full)).toBe(
      'cb4d3655694d71a90f2e865099b8bd44025b0d9f9f437abda2006b4462a0770d',
    );
    expect(requestHash(bare)).toBe(
      'f4dbaae23a45d2177ea7a7b4ec0c31b99694042e717204ebc00d2bae9a70f72b',
    );
  });

  it('leaves the route out and tells every asked field apart', () => {
    expect(requestHash({ ...full, route: [] })).toBe(requestHash(full));
    const changed: Array<Partial<SendRequest>> = [
      { account: 'other' },
      { callbackUrl: null },
      { content: 'other' },
      { extNo: '02' },
      { metadata: null },
      { mobiles: ['13800138000'] },
      { sendAt: null },
      { ttlMs: null },
    ];
    for (const change of changed) {
      expect(requestHash({ ...full, ...change }), JSON.stringify(change)).not.toBe(
        requestHash(full),
      );
    }
  });
});
