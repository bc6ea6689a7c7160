import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmsClient, type SmsClientOptions } from './client.js';
import { SmsError } from './errors.js';
import { formatShanghai } from './time.js';

/**
 * Every public entry point of `SmsClient`, fed malformed input: the only acceptable outcome
 * is a `VALIDATION` `SmsError` naming a field that was wrong, and not one request reaching
 * the server (counted here on a real HTTP server that would accept anything).
 */
let server: Server;
let baseUrl: string;
let requests = 0;
const clients: SmsClient[] = [];

const OK =
  '<?xml version="1.0" encoding="utf-8" ?><returnsms><returnstatus>Success</returnstatus><message>ok</message><remainpoint>9</remainpoint><taskID>42</taskID><successCounts>1</successCounts></returnsms>';

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => res.end(OK));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function client(options: Partial<SmsClientOptions> = {}): SmsClient {
  const created = new SmsClient({ baseUrl, account: 'demo', password: 'pw-secret', ...options });
  clients.push(created);
  return created;
}

/** A huge string (1 MiB), one with a NUL, a lone surrogate: the odd strings of the brief. */
const HUGE = '1'.repeat(1 << 20);
const oddStrings = fc.oneof(
  fc.constant(HUGE),
  fc.string({ maxLength: 30 }).map((s) => `${s}\u0000${s}`),
  fc.string({ maxLength: 30 }).map((s) => `${s}\ud800`),
  fc.constant('\udc00x'),
);
/** Not a string at all. */
const nonStrings = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.object({ maxDepth: 1 }),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 5 }),
  fc.constant(Symbol('x')),
  fc.constant(() => '13800138000'),
);
/** Anything that is not a plain options object. */
const nonObjects = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.string({ maxLength: 10 }),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.boolean(),
);
/** Not a positive whole number. */
const badCounts = fc.oneof(
  fc.constantFrom(0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e21, -0),
  fc.integer({ max: 0 }),
  fc.constantFrom('10', null, {}, [], true),
);

const junkMobiles = fc.oneof(
  fc.constant(undefined),
  nonStrings.filter((v) => !Array.isArray(v) || v.some((e) => typeof e !== 'string')),
  oddStrings,
  fc.array(fc.oneof(nonStrings, oddStrings), { minLength: 1, maxLength: 3 }),
  fc.constantFrom('', [], ['12345'], '1380013800'),
);
const junkContent = fc.oneof(
  fc.constant(undefined),
  nonStrings,
  oddStrings.filter((s) => s !== HUGE),
  fc.constantFrom('', '   ', '\t\n'),
);
const PAST = new Date(Date.UTC(2001, 0, 1, 1, 0, 0));
const junkSendTime = fc.oneof(
  nonStrings.filter((v) => !(v instanceof Date)),
  oddStrings,
  fc.constantFrom(
    'tomorrow',
    '2030-02-30 10:00:00',
    new Date(Number.NaN),
    PAST,
    '2001-01-01 09:00:00',
    formatShanghai(new Date(Date.now() - 3_600_000)),
    new Date(Date.now() - 10 * 60_000),
  ),
);
const junkExtNo = fc.oneof(
  nonStrings,
  oddStrings,
  fc.constantFrom('abc', '12345678901', ' 1', '1.5', '-1'),
  fc.integer({ min: 0, max: 99 }),
);

type Field = { name: string; valid: unknown; junk: fc.Arbitrary<unknown>; optional?: boolean };

/**
 * An input object where each field is valid, junk or (if optional) absent, and at least one
 * field is junk. Yields the object and the names of the junk fields.
 */
function inputs(fields: Field[]): fc.Arbitrary<{ input: Record<string, unknown>; bad: string[] }> {
  const perField = fields.map((field) =>
    fc.oneof(
      fc.constant({ kind: 'valid' as const, value: field.valid }),
      field.junk.map((value) => ({ kind: 'junk' as const, value })),
    ),
  );
  return fc
    .tuple(...perField)
    .filter((picked) => picked.some((p) => p.kind === 'junk'))
    .map((picked) => {
      const input: Record<string, unknown> = {};
      const bad: string[] = [];
      picked.forEach((p, i) => {
        const field = fields[i]!;
        if (p.kind === 'junk') bad.push(field.name);
        if (p.value !== undefined) input[field.name] = p.value;
      });
      return { input, bad };
    });
}

const SEND_FIELDS: Field[] = [
  { name: 'mobiles', valid: ['13800138000', '13900139000'], junk: junkMobiles },
  { name: 'content', valid: '【签名】你好', junk: junkContent },
  { name: 'sendTime', valid: undefined, junk: junkSendTime },
  { name: 'extNo', valid: undefined, junk: junkExtNo },
];

async function validationFailure(run: () => unknown): Promise<SmsError> {
  let thrown: unknown;
  try {
    await run();
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof SmsError)) {
    throw new Error(
      `expected an SmsError, got ${thrown === undefined ? 'success' : String(thrown)}`,
      {
        cause: thrown,
      },
    );
  }
  expect(thrown.code).toBe('VALIDATION');
  expect(typeof thrown.field).toBe('string');
  return thrown;
}

const RUNS = { numRuns: 300 };

describe('malformed input is a VALIDATION SmsError naming the field, and nothing is sent', () => {
  it('send(): missing mobiles, mobiles: null, no input, sendTime as a number (the reported crashes)', async () => {
    const sms = client();
    const cases: Array<[unknown, string]> = [
      [{ content: 'x' }, 'mobiles'],
      [{ mobiles: null, content: 'x' }, 'mobiles'],
      [undefined, 'input'],
      [null, 'input'],
      [{ mobiles: '13800138000', content: 'x', sendTime: 1_900_000_000_000 }, 'sendTime'],
      [{ mobiles: '13800138000', content: 'x', extNo: 12 }, 'extNo'],
      [{ mobiles: [13800138000], content: 'x' }, 'mobiles'],
      [{ mobiles: '13800138000', content: 'a\u0000b' }, 'content'],
    ];
    for (const [input, field] of cases) {
      const error = await validationFailure(() => sms.send(input as never));
      expect(error.field, JSON.stringify(input)).toBe(field);
      expect(error.action).toBe('send');
    }
    expect(requests).toBe(0);
  });

  it('send() over random odd input', async () => {
    const sms = client();
    const before = requests;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          inputs(SEND_FIELDS),
          nonObjects.map((input) => ({ input, bad: ['input'] })),
        ),
        async ({ input, bad }) => {
          const error = await validationFailure(() => sms.send(input as never));
          expect(bad).toContain(error.field);
        },
      ),
      RUNS,
    );
    expect(requests).toBe(before);
  });

  it('sendBatch() over random odd input, GBK too', async () => {
    const clientsByCharset = [client(), client({ charset: 'gbk' })];
    const before = requests;
    const batchFields: Field[] = [
      ...SEND_FIELDS,
      { name: 'chunkSize', valid: undefined, junk: badCounts },
      { name: 'concurrency', valid: undefined, junk: badCounts },
      {
        name: 'onProgress',
        valid: undefined,
        junk: nonStrings.filter((v) => typeof v !== 'function'),
      },
      { name: 'onChunkStart', valid: undefined, junk: fc.constantFrom('x', 1, {}, null) },
      { name: 'stopOnFailure', valid: undefined, junk: fc.constantFrom('yes', 1, null, {}) },
      {
        name: 'signal',
        valid: undefined,
        junk: fc.constantFrom('x', {}, { aborted: false }, null),
      },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...clientsByCharset),
        fc.oneof(
          // A batch drops invalid numbers; junk lists hold no valid one, so it is an error.
          inputs(batchFields),
          nonObjects.map((input) => ({ input, bad: ['input'] })),
        ),
        async (sms, { input, bad }) => {
          const error = await validationFailure(() => sms.sendBatch(input as never));
          expect(bad).toContain(error.field);
        },
      ),
      RUNS,
    );
    expect(requests).toBe(before);
  });

  it('checkKeyword() and changePassword() over random odd input', async () => {
    const sms = client();
    const gbk = client({ charset: 'gbk' });
    const before = requests;
    const junk = fc.oneof(junkContent, fc.constant(undefined));
    await fc.assert(
      fc.asyncProperty(junk, fc.constantFrom(sms, gbk), async (value, through) => {
        expect((await validationFailure(() => through.checkKeyword(value as never))).field).toBe(
          'content',
        );
        const pw = await validationFailure(() => through.changePassword(value as never));
        expect(pw.field).toBe('newPassword');
        if (typeof value === 'string' && value.trim() !== '') {
          expect(pw.message).not.toContain(value);
        }
      }),
      RUNS,
    );
    // GBK cannot carry every character: refused before sending, without naming them.
    const error = await validationFailure(() => gbk.changePassword('pass😀word'));
    expect(error.field).toBe('newPassword');
    expect(error.message).not.toContain('😀');
    expect(requests).toBe(before);
  });

  it('fetchReports({ max }) and fetchReplies() over random odd options', async () => {
    const sms = client();
    const before = requests;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          nonObjects.map((options) => ({ options, bad: ['input'] })),
          badCounts.map((max) => ({ options: { max }, bad: ['max'] })),
          fc
            .constantFrom('x', 1, {}, { chunk: 'no' }, null, { chunk() {}, head: 1 })
            .map((sink) => ({ options: { sink }, bad: ['sink'] })),
        ),
        async ({ options, bad }) => {
          const error = await validationFailure(() => sms.fetchReports(options as never));
          expect(bad).toContain(error.field);
          if (!bad.includes('max')) {
            expect(bad).toContain(
              (await validationFailure(() => sms.fetchReplies(options as never))).field,
            );
          }
        },
      ),
      RUNS,
    );
    expect(requests).toBe(before);
  });

  it('reports() and replies() refuse odd polling options at once (NaN would poll in a hot loop)', () => {
    const sms = client();
    for (const options of [
      null,
      { intervalMs: Number.NaN },
      { intervalMs: -5 },
      { intervalMs: '100' },
      { max: 0 },
      { onError: 'log' },
      { signal: {} },
    ]) {
      for (const poll of [
        () => sms.reports(options as never),
        () => sms.replies(options as never),
      ]) {
        let thrown: unknown;
        try {
          poll();
        } catch (error) {
          thrown = error;
        }
        expect(thrown, JSON.stringify(options)).toBeInstanceOf(SmsError);
        expect((thrown as SmsError).code).toBe('VALIDATION');
      }
    }
    expect(requests).toBe(0);
  });

  it('the SmsClient constructor over random odd options', () => {
    const fields: Field[] = [
      {
        name: 'baseUrl',
        valid: 'http://127.0.0.1:1',
        junk: fc.oneof(
          nonStrings,
          fc.constant(undefined),
          fc.constantFrom(
            '',
            'not a url',
            'ftp://127.0.0.1/',
            'http://user:pw@127.0.0.1/',
            'http://127.0.0.1/?password=x',
            `http://${HUGE}`,
            'http://127.0.0.1\u0000:8888',
          ),
        ),
      },
      {
        name: 'account',
        valid: 'demo',
        junk: fc.oneof(
          fc.constant(undefined),
          nonStrings,
          oddStrings.filter((s) => s !== HUGE),
          fc.constant(''),
        ),
      },
      {
        name: 'password',
        valid: 'pw',
        junk: fc.oneof(
          fc.constant(undefined),
          nonStrings,
          oddStrings.filter((s) => s !== HUGE),
          fc.constant(''),
        ),
      },
      {
        name: 'userId',
        valid: undefined,
        junk: fc.oneof(
          nonStrings,
          oddStrings.filter((s) => s !== HUGE),
        ),
      },
      { name: 'charset', valid: undefined, junk: fc.constantFrom('latin1', 'GBK', null, 1, {}) },
      { name: 'auth', valid: undefined, junk: fc.constantFrom('basic', null, true) },
      { name: 'format', valid: undefined, junk: fc.constantFrom('yaml', null, 0) },
      { name: 'timeoutMs', valid: undefined, junk: fc.oneof(badCounts, fc.constant(1e12)) },
      { name: 'maxResponseBytes', valid: undefined, junk: badCounts.filter((v) => v !== 1e21) },
      { name: 'connectTimeoutMs', valid: undefined, junk: badCounts },
      { name: 'connections', valid: undefined, junk: badCounts },
      {
        name: 'retry',
        valid: undefined,
        junk: fc.constantFrom(
          null,
          'x',
          true,
          { retries: Number.NaN },
          { retries: -1 },
          { minDelayMs: Number.POSITIVE_INFINITY },
        ),
      },
      {
        name: 'logger',
        valid: undefined,
        junk: fc.constantFrom(null, 'x', 1, { debug: 1 }, { warn: 'x' }),
      },
      { name: 'dispatcher', valid: undefined, junk: fc.constantFrom(null, {}, 'x') },
    ];
    fc.assert(
      fc.property(
        fc.oneof(
          inputs(fields),
          nonObjects.map((input) => ({ input, bad: ['options', 'baseUrl'] })),
        ),
        ({ input, bad }) => {
          let thrown: unknown;
          try {
            clients.push(new SmsClient(input as never));
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(SmsError);
          const error = thrown as SmsError;
          expect(error.code).toBe('VALIDATION');
          // `retry.retries` and friends name the option they belong to.
          expect(bad).toContain(error.field?.split('.')[0]);
          const password = (input as { password?: unknown } | null)?.password;
          if (typeof password === 'string' && password.length > 3) {
            expect(error.message).not.toContain(password);
          }
        },
      ),
      RUNS,
    );
    expect(requests).toBe(0);
  });
});

describe('sendTime in the past', () => {
  it('a time in 2001 is refused, saying why, and nothing is sent', async () => {
    const sms = client();
    for (const sendTime of [PAST, '2001-01-01 09:00:00', '2020-01-01 09:00:00']) {
      const error = await validationFailure(() =>
        sms.send({ mobiles: '13800138000', content: '【签名】x', sendTime }),
      );
      expect(error.field).toBe('sendTime');
      expect(error.message).toMatch(/in the past/);
      expect(error.message).toMatch(/2001-01-01 09:00:00|2020-01-01 09:00:00/);
      expect(error.message).toMatch(/5 minutes/);
      const batch = await validationFailure(() =>
        sms.sendBatch({ mobiles: ['13800138000'], content: '【签名】x', sendTime }),
      );
      expect(batch.field).toBe('sendTime');
    }
    expect(requests).toBe(0);
  });

  it('a time a minute ago is clock skew and goes through; a future one is kept', async () => {
    const sms = client();
    const before = requests;
    await sms.send({
      mobiles: '13800138000',
      content: '【签名】x',
      sendTime: new Date(Date.now() - 60_000),
    });
    await sms.send({
      mobiles: '13800138000',
      content: '【签名】x',
      sendTime: new Date(Date.now() + 86_400_000),
    });
    expect(requests).toBe(before + 2);
  });
});
