import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  assertWebhookSecret,
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  webhookHeaders,
} from './webhooks.js';

const body = JSON.stringify({
  type: 'sms.report',
  timestamp: '2026-01-01T00:00:00.000Z',
  data: {
    account: 'main',
    mobile: '13800138000',
    taskId: '1504250001',
    status: 'delivered',
    statusCode: 10,
    receivedAt: '2026-01-01T00:00:00.000Z',
    receiveTime: '2026-01-01 08:00:00',
    errorCode: 'DELIVRD',
    extNo: '01',
  },
});
const now = () => Math.floor(Date.now() / 1000);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).code;
  }
  return undefined;
}

describe('webhooks against the standardwebhooks package', () => {
  it('what we sign, standardwebhooks verifies, with each rotated secret', () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = webhookHeaders({ id: 'msg_1', timestamp: now(), body, secrets: [a, b] });
    expect(headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(headers['content-type']).toBe('application/json');
    expect(new Webhook(a).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(b).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('signs with the right key for each of more secrets than it keeps decoded, in any order', () => {
    // 40 secrets, signed in two rounds: the second one re-decodes the keys the first dropped.
    const secrets = Array.from({ length: 40 }, () => generateWebhookSecret());
    for (const round of [secrets, [...secrets].reverse()]) {
      for (const secret of round) {
        const headers = webhookHeaders({ id: 'msg_1', timestamp: now(), body, secrets: [secret] });
        expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
        const other = secrets[(secrets.indexOf(secret) + 1) % secrets.length]!;
        expect(() => new Webhook(other).verify(body, headers)).toThrow();
      }
    }
  });

  it('what standardwebhooks signs, we verify (string, Buffer, Headers, array headers)', () => {
    const secret = generateWebhookSecret();
    const ts = new Date();
    const sig = new Webhook(secret).sign('msg_2', ts, body);
    const plain = {
      'Webhook-Id': 'msg_2',
      'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)),
      'webhook-signature': sig,
    };
    expect(verifyWebhook({ headers: plain, body, secrets: secret }).data.mobile).toBe(
      '13800138000',
    );
    expect(
      verifyWebhook({ headers: new Headers(plain), body: Buffer.from(body), secrets: [secret] })
        .type,
    ).toBe('sms.report');
    const split = { ...plain, 'webhook-signature': ['v1,AAAA', sig] };
    expect(verifyWebhook({ headers: split, body, secrets: secret }).type).toBe('sms.report');
  });

  it('accepts any one secret of a rotation on the verifying side', () => {
    const [old, fresh] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = webhookHeaders({ id: 'msg_3', timestamp: now(), body, secrets: [fresh] });
    expect(verifyWebhook({ headers, body, secrets: [old, fresh] }).type).toBe('sms.report');
  });

  it('names what is wrong', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders({ id: 'msg_4', timestamp: now(), body, secrets: [secret] });
    expect(codeOf(() => verifyWebhook({ headers: {}, body, secrets: secret }))).toBe(
      'MISSING_HEADERS',
    );
    expect(codeOf(() => verifyWebhook({ headers, body: body + ' ', secrets: secret }))).toBe(
      'BAD_SIGNATURE',
    );
    expect(codeOf(() => verifyWebhook({ headers, body, secrets: generateWebhookSecret() }))).toBe(
      'BAD_SIGNATURE',
    );
    expect(
      codeOf(() => verifyWebhook({ headers, body, secrets: secret, now: Date.now() + 301_000 })),
    ).toBe('STALE');
    expect(
      codeOf(() =>
        verifyWebhook({
          headers,
          body,
          secrets: secret,
          toleranceSeconds: 1000,
          now: Date.now() + 301_000,
        }),
      ),
    ).toBeUndefined();
    const junk = '{"type":"other"}';
    const junkHeaders = webhookHeaders({
      id: 'msg_5',
      timestamp: now(),
      body: junk,
      secrets: [secret],
    });
    expect(codeOf(() => verifyWebhook({ headers: junkHeaders, body: junk, secrets: secret }))).toBe(
      'BAD_PAYLOAD',
    );
  });

  it('signs exactly as the spec example does', () => {
    // The test vector from the Standard Webhooks reference implementations.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const payload = '{"test": 2432232314}';
    expect(
      signWebhook({
        id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        timestamp: 1614265330,
        body: payload,
        secrets: [secret],
      }),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('generates secrets of 24 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(generateWebhookSecret()).not.toBe(secret);
  });
});

describe('verifyWebhook options cannot turn the age check off', () => {
  // A webhook signed ten years ago, with the standardwebhooks reference implementation.
  const secret = generateWebhookSecret();
  const tenYearsAgo = new Date(Date.now() - 10 * 365 * 86_400_000);
  const headers = {
    'webhook-id': 'msg_old',
    'webhook-timestamp': String(Math.floor(tenYearsAgo.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign('msg_old', tenYearsAgo, body),
  };

  it('the old signature is valid: it is refused only for its age', () => {
    expect(codeOf(() => verifyWebhook({ headers, body, secrets: secret }))).toBe('STALE');
    expect(verifyWebhook({ headers, body, secrets: secret, now: tenYearsAgo }).type).toBe(
      'sms.report',
    );
  });

  it.each([
    ['NaN', { toleranceSeconds: Number.NaN }],
    ['negative', { toleranceSeconds: -1 }],
    ['Infinity', { toleranceSeconds: Number.POSITIVE_INFINITY }],
    ['a string', { toleranceSeconds: '300' }],
    ['null', { toleranceSeconds: null }],
    ['now: NaN', { now: Number.NaN }],
    ['now: an invalid Date', { now: new Date(Number.NaN) }],
    ['now: a string', { now: '2026-01-01' }],
  ])(
    '%s throws a TypeError naming the option instead of accepting a 10-year-old webhook',
    (_name, extra) => {
      expect(() => verifyWebhook({ headers, body, secrets: secret, ...(extra as object) })).toThrow(
        TypeError,
      );
      expect(() => verifyWebhook({ headers, body, secrets: secret, ...(extra as object) })).toThrow(
        /verifyWebhook: (toleranceSeconds|now) must be/,
      );
    },
  );

  it('0 is a valid (strict) tolerance', () => {
    const fresh = webhookHeaders({ id: 'm', timestamp: now(), body, secrets: [secret] });
    expect(
      verifyWebhook({ headers: fresh, body, secrets: secret, toleranceSeconds: 0, now: Date.now() })
        .type,
    ).toBe('sms.report');
    expect(
      codeOf(() => verifyWebhook({ headers, body, secrets: secret, toleranceSeconds: 0 })),
    ).toBe('STALE');
  });

  it('missing or empty secrets are a TypeError, not a BAD_SIGNATURE per request', () => {
    for (const secrets of [[], undefined, null, [''], [1]]) {
      expect(() => verifyWebhook({ headers, body, secrets: secrets as never })).toThrow(
        /verifyWebhook: secrets must be/,
      );
    }
  });
});

describe('assertWebhookSecret', () => {
  it('accepts what generateWebhookSecret makes and 16-byte keys', () => {
    assertWebhookSecret(generateWebhookSecret());
    assertWebhookSecret(`whsec_${Buffer.alloc(16, 7).toString('base64')}`, 'SMS_WEBHOOK_SECRET');
    assertWebhookSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  });

  it.each([
    ['not a string', 42],
    ['null', null],
    ['no whsec_ prefix', Buffer.alloc(24).toString('base64')],
    ['empty after the prefix', 'whsec_'],
    ['not base64', 'whsec_this is not base64!!'],
    ['missing padding', `whsec_${Buffer.alloc(20, 1).toString('base64').replace(/=+$/, '')}`],
    ['base64url alphabet', 'whsec_ab-_ab-_ab-_ab-_ab-_ab-_'],
    ['15 bytes', `whsec_${Buffer.alloc(15, 1).toString('base64')}`],
  ])('refuses %s with a TypeError naming the field, never the secret', (_name, secret) => {
    let thrown: unknown;
    try {
      assertWebhookSecret(secret, 'webhook.secret');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    const message = (thrown as Error).message;
    expect(message).toContain('webhook.secret');
    if (typeof secret === 'string' && secret.length > 8) {
      expect(message).not.toContain(secret.slice(6));
    }
  });
});
