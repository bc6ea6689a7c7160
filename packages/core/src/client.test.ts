import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import iconv from 'iconv-lite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmsClient } from './client.js';
import { SmsError } from './errors.js';

/** A scripted platform: each test sets how it answers; requests are recorded raw. */
type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;
let handler: Handler;
const requests: Array<{ url: string; body: Buffer; headers: IncomingMessage['headers'] }> = [];
let server: Server;
let baseUrl: string;
const clients: SmsClient[] = [];

const OK_SEND =
  '<?xml version="1.0" encoding="utf-8" ?><returnsms><returnstatus>Success</returnstatus><message>ok</message><remainpoint>9</remainpoint><taskID>42</taskID><successCounts>1</successCounts></returnsms>';
const PASSWORD = 'pw-Very-Secret-1';

function client(options: Partial<ConstructorParameters<typeof SmsClient>[0]> = {}): SmsClient {
  const created = new SmsClient({
    baseUrl,
    userId: '12',
    account: 'demo',
    password: PASSWORD,
    retry: { minDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
  clients.push(created);
  return created;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<SmsError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SmsError);
  expect((error as SmsError).code).toBe(code);
  const smsError = error as SmsError;
  expect(
    `${smsError.message} ${JSON.stringify(smsError.toJSON())} ${smsError.excerpt ?? ''}`,
  ).not.toContain(PASSWORD);
  return smsError;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ url: req.url ?? '', body, headers: req.headers });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  requests.length = 0;
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('SmsClient over HTTP', () => {
  it('POSTs a form with credentials in the body, never in the URL', async () => {
    handler = (_req, _body, res) => res.end(OK_SEND);
    const result = await client({ baseUrl: `${baseUrl}/prefix/` }).send({
      mobiles: '13800138000',
      content: '【签名】你好',
    });
    expect(result.taskId).toBe('42');
    const [request] = requests;
    expect(request?.url).toBe('/prefix/sms.aspx');
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.body.toString()).toContain(`password=${PASSWORD}`);
    expect(request?.url).not.toContain(PASSWORD);
  });

  it('decodes by the Content-Type charset even when the XML declaration says utf-8', async () => {
    handler = (_req, _body, res) => {
      res.setHeader('content-type', 'text/xml; charset=gb2312');
      res.end(
        iconv.encode(
          '<?xml version="1.0" encoding="utf-8" ?><returnsms><message>没有包含屏蔽词</message></returnsms>',
          'gbk',
        ),
      );
    };
    expect((await client().checkKeyword('hello')).blocked).toBe(false);
  });

  it('decodes by the XML declaration when there is no header charset, and by the endpoint default last', async () => {
    handler = (_req, _body, res) => {
      res.setHeader('content-type', 'text/xml');
      res.end(
        iconv.encode(
          '<?xml version="1.0" encoding="gb2312" ?><returnsms><message>没有包含屏蔽词</message></returnsms>',
          'gbk',
        ),
      );
    };
    expect((await client().checkKeyword('hello')).message).toBe('没有包含屏蔽词');
    handler = (_req, _body, res) =>
      res.end(iconv.encode('<returnsms><message>没有包含屏蔽词</message></returnsms>', 'gbk'));
    expect((await client({ charset: 'gbk' }).checkKeyword('你好')).message).toBe('没有包含屏蔽词');
  });

  it('names the charset of a GBK body (charset=gb2312) and leaves UTF-8 requests as they were', async () => {
    handler = (_req, _body, res) => res.end(OK_SEND);
    await client({ charset: 'gbk' }).send({ mobiles: '13800138000', content: '【签名】你好' });
    await client({ charset: 'gbk' })
      .fetchReports()
      .catch(() => undefined);
    await client().send({ mobiles: '13800138000', content: '【签名】你好' });
    const [gbk, pull, utf8] = requests;
    expect(gbk?.url).toBe('/smsGBK.aspx');
    expect(gbk?.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=gb2312');
    // The body is GBK bytes, and the header now says so.
    expect(gbk?.body.toString('latin1')).toContain('%C4%E3%BA%C3');
    expect(pull?.url).toBe('/statusApi.aspx');
    expect(pull?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(utf8?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('a 404 names the path requested and says baseUrl is the server root, without secrets', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><body>404 - File or directory not found.</body></html>');
    };
    const error = await expectCode(
      client({ baseUrl: `${baseUrl}/sms.aspx` }).send({ mobiles: '13800138000', content: 'x' }),
      'HTTP',
    );
    expect(error.status).toBe(404);
    expect(error.message).toContain('/sms.aspx/sms.aspx');
    expect(error.message).toMatch(/baseUrl should be the platform's root/);
    expect(error.message).toContain('adds /sms.aspx');
    const reports = await expectCode(client().fetchReports(), 'HTTP');
    expect(reports.message).toContain('POST /statusApi.aspx');
  });

  it('reads a UTF-8 BOM', async () => {
    handler = (_req, _body, res) =>
      res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(OK_SEND)]));
    expect((await client().send({ mobiles: '13800138000', content: 'x' })).taskId).toBe('42');
  });

  it('turns an HTML 500 page into an HTTP error with status and excerpt, and retries read-only calls', async () => {
    handler = (_req, _body, res) => {
      res.statusCode = 500;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<html><body><h1>Server Error in "/" Application.</h1></body></html>');
    };
    const error = await expectCode(client().balance(), 'HTTP');
    expect(error.status).toBe(500);
    expect(error.excerpt).toContain('Server Error');
    expect(requests).toHaveLength(3);
  });

  it('does not retry a send that got an HTTP error', async () => {
    handler = (_req, _body, res) => {
      res.statusCode = 502;
      res.end('bad gateway');
    };
    await expectCode(client().send({ mobiles: '13800138000', content: 'x' }), 'HTTP');
    expect(requests).toHaveLength(1);
  });

  it('reports UNKNOWN_OUTCOME when the connection resets after a send was written, and does not retry', async () => {
    handler = (req) => req.socket.destroy();
    const error = await expectCode(
      client().send({ mobiles: '13800138000', content: 'x' }),
      'UNKNOWN_OUTCOME',
    );
    expect(error.outcomeUnknown).toBe(true);
    expect(requests).toHaveLength(1);
  });

  it('reports UNKNOWN_OUTCOME when a send times out waiting for the answer', async () => {
    handler = () => {};
    await expectCode(
      client({ timeoutMs: 150 }).send({ mobiles: '13800138000', content: 'x' }),
      'UNKNOWN_OUTCOME',
    );
    expect(requests).toHaveLength(1);
  });

  it('reports TIMEOUT for a read-only call and retries it', async () => {
    handler = () => {};
    await expectCode(
      client({ timeoutMs: 100, retry: { retries: 1, minDelayMs: 1 } }).balance(),
      'TIMEOUT',
    );
    expect(requests).toHaveLength(2);
  });

  it('does not retry a pull once it was written (records would be lost)', async () => {
    handler = (req) => req.socket.destroy();
    await expectCode(client().fetchReports(), 'UNKNOWN_OUTCOME');
    expect(requests).toHaveLength(1);
  });

  it('reports a truncated body as a failure of the exchange', async () => {
    handler = (_req, _body, res) => {
      res.setHeader('content-length', '500');
      res.write(OK_SEND.slice(0, 60));
      setTimeout(() => res.socket?.destroy(), 10);
    };
    await expectCode(client().send({ mobiles: '13800138000', content: 'x' }), 'UNKNOWN_OUTCOME');
    await expectCode(client({ retry: false }).balance(), 'NETWORK');
  });

  it('reports NETWORK when nothing listens, retrying even a send since nothing left', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const attempts: unknown[] = [];
    const logger = {
      warn: (_m: string, fields?: Record<string, unknown>) => attempts.push(fields),
    };
    const error = await expectCode(
      client({ baseUrl: `http://127.0.0.1:${port}`, logger }).send({
        mobiles: '13800138000',
        content: 'x',
      }),
      'NETWORK',
    );
    expect(error.action).toBe('send');
    expect(attempts).toHaveLength(3);
    expect(JSON.stringify(attempts)).not.toContain(PASSWORD);
  });

  it('makes no request for invalid input', async () => {
    handler = (_req, _body, res) => res.end(OK_SEND);
    await expect(client().send({ mobiles: 'abc', content: 'x' })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
    await expect(
      client({ charset: 'gbk' }).send({ mobiles: '13800138000', content: '🙂' }),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(requests).toHaveLength(0);
  });

  it('refuses a baseUrl with credentials in it', () => {
    expect(
      () => new SmsClient({ baseUrl: 'http://u:p@127.0.0.1/', account: 'a', password: 'b' }),
    ).toThrow(SmsError);
  });

  it('splits a batch into chunks, keeps going after a failed chunk and reports progress', async () => {
    let calls = 0;
    handler = (_req, _body, res) => {
      calls++;
      if (calls === 2)
        res.end(
          '<returnsms><returnstatus>Faild</returnstatus><message>其他错误</message></returnsms>',
        );
      else res.end(OK_SEND);
    };
    const mobiles = Array.from(
      { length: 25 },
      (_, i) => `1380013${String(8000 + i).padStart(4, '0')}`,
    );
    const progress: number[] = [];
    const outcome = await client().sendBatch({
      mobiles: [...mobiles, 'bad-number'],
      content: '【签名】hi',
      chunkSize: 10,
      concurrency: 1,
      onProgress: (p) => progress.push(p.completedChunks),
    });
    expect(outcome.results.map((r) => r.index)).toEqual([0, 2]);
    expect(outcome.failures.map((f) => [f.index, f.error.code])).toEqual([[1, 'PLATFORM_ERROR']]);
    expect(outcome.invalid).toEqual(['bad-number']);
    expect(progress).toEqual([1, 2, 3]);
    expect(
      requests.map((r) => new URLSearchParams(r.body.toString()).get('mobile')?.split(',').length),
    ).toEqual([10, 10, 5]);
  });

  it('polls reports, yielding each once, and stops on abort', async () => {
    const controller = new AbortController();
    let served = 0;
    handler = (_req, _body, res) => {
      served++;
      if (served === 3) controller.abort();
      if (served === 1) {
        res.end(
          '<returnsms><statusbox><mobile>13800138000</mobile><taskid>1</taskid><status>10</status><receivetime>2026-01-01 08:00:00</receivetime><errorcode>DELIVRD</errorcode><extno></extno></statusbox></returnsms>',
        );
      } else res.end('<returnsms/>');
    };
    const seen: string[] = [];
    for await (const report of client().reports({ intervalMs: 5, signal: controller.signal })) {
      seen.push(report.mobile);
    }
    expect(seen).toEqual(['13800138000']);
    expect(served).toBe(3);
  });
});

describe('pull-once records survive an early break', () => {
  it('hands the rest of a fetched batch to the next fetch instead of dropping it', async () => {
    let served = 0;
    handler = (_req, _body, res) => {
      served++;
      const box = (mobile: string) =>
        `<statusbox><mobile>${mobile}</mobile><taskid>1</taskid><status>10</status><receivetime>2026-01-01 08:00:00</receivetime><errorcode>DELIVRD</errorcode><extno></extno></statusbox>`;
      res.end(
        served === 1
          ? `<returnsms>${box('13800000001')}${box('13800000002')}${box('13800000003')}</returnsms>`
          : '<returnsms/>',
      );
    };
    const sms = client();
    for await (const report of sms.reports({ intervalMs: 10 })) {
      expect(report.mobile).toBe('13800000001');
      break;
    }
    expect((await sms.fetchReports()).map((r) => r.mobile)).toEqual(['13800000002', '13800000003']);
    expect(served).toBe(1);
    expect(await sms.fetchReports()).toEqual([]);
  });
});

describe('sendBatch stopOnFailure', () => {
  it('starts no chunk after the first failure and says which were never sent', async () => {
    handler = (_req, _body, res) =>
      res.end(
        '<returnsms><returnstatus>Faild</returnstatus><message>对不起，您当前要发送的量大于您当前余额</message></returnsms>',
      );
    const started: number[] = [];
    const mobiles = Array.from({ length: 30 }, (_, i) => `1390013${String(9000 + i)}`);
    const outcome = await client().sendBatch({
      mobiles,
      content: 'x',
      chunkSize: 10,
      concurrency: 1,
      stopOnFailure: true,
      onChunkStart: (chunk) => started.push(chunk.index),
    });
    expect(started).toEqual([0]);
    expect(outcome.failures.map((f) => f.error.code)).toEqual(['INSUFFICIENT_BALANCE']);
    expect(outcome.notSent.map((c) => c.index)).toEqual([1, 2]);
    expect(requests).toHaveLength(1);
  });
});

describe('raw answers on failure', () => {
  it('keeps the bytes of an unparseable pull on the error, outside toJSON', async () => {
    const body = '<returnsms><statusbox><mobile>13800138000</mobile><status>10';
    handler = (_req, _body, res) => {
      res.setHeader('content-type', 'text/xml; charset=utf-8');
      res.end(body);
    };
    const error = await expectCode(client().fetchReports(), 'PROTOCOL');
    expect(error.response?.body.toString()).toBe(body);
    expect(error.response?.status).toBe(200);
    expect(error.response?.contentType).toBe('text/xml; charset=utf-8');
    expect(error.toJSON()).not.toHaveProperty('response');
  });
});

const box = (i: number) =>
  `<statusbox><mobile>1380013${String(i).padStart(4, '0')}</mobile><taskid>${9_000_000_000_000_000n + BigInt(i)}</taskid><status>10</status><receivetime>2026-11-30 10:00:00</receivetime><errorcode>DELIVRD</errorcode><extno>01</extno></statusbox>`;
const answer = (n: number) =>
  `<?xml version="1.0" encoding="utf-8" ?><returnsms>${Array.from({ length: n }, (_, i) => box(i)).join('')}</returnsms>`;

describe('limits: one deadline for the whole exchange, a size cap', () => {
  it('times out a server that trickles a byte every 50 ms, however long each chunk takes', async () => {
    let timer: NodeJS.Timeout | undefined;
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      const bytes = Buffer.from(answer(3));
      let at = 0;
      timer = setInterval(() => {
        if (at < bytes.length) res.write(bytes.subarray(at, ++at));
      }, 50);
    };
    const started = performance.now();
    const error = await expectCode(client({ timeoutMs: 600, retry: false }).balance(), 'TIMEOUT');
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // Each chunk arrived well within 600 ms; only an overall deadline ends it, near 600 ms.
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(1500);
    expect(error.message).toContain('600 ms');
  });

  it('keeps the bytes and complete records of a pull cut off by the deadline', async () => {
    let timer: NodeJS.Timeout | undefined;
    const whole = answer(3);
    const cut = whole.indexOf('</statusbox>', whole.indexOf('</statusbox>') + 1) + 20;
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      res.write(whole.slice(0, cut));
      timer = setInterval(() => res.write(' '), 50);
    };
    const error = await expectCode(client({ timeoutMs: 400 }).fetchReports(), 'UNKNOWN_OUTCOME');
    clearInterval(timer);
    expect(error.records.map((r) => r.mobile)).toEqual(['13800130000', '13800130001']);
    expect(error.response?.body.toString().startsWith(whole.slice(0, cut))).toBe(true);
    expect(requests).toHaveLength(1);
  });

  it('cuts off an answer over maxResponseBytes without buffering the rest', async () => {
    let written = 0;
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (written < 64 << 20) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    };
    const error = await expectCode(
      client({ maxResponseBytes: 1 << 20, retry: false }).balance(),
      'PROTOCOL',
    );
    expect(error.message).toContain('maxResponseBytes');
    // It stopped reading soon after the cap, long before the server's 64 MiB.
    expect(written).toBeLessThan(16 << 20);
  });

  it('refuses a limit that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => client({ timeoutMs: bad })).toThrow(SmsError);
      expect(() => client({ maxResponseBytes: bad })).toThrow(SmsError);
    }
  });
});

describe('pull-once answers that break after some records', () => {
  it('salvages the complete records of a body reset mid-way, with the bytes', async () => {
    const whole = answer(5);
    const cut = whole.indexOf('<statusbox>', whole.indexOf('</statusbox>') + 1) + 40;
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'content-length': '99999' });
      res.write(whole.slice(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
    };
    const error = await expectCode(client().fetchReports(), 'UNKNOWN_OUTCOME');
    expect(error.records).toHaveLength(1);
    expect(error.records[0]).toMatchObject({ mobile: '13800130000', extNo: '01' });
    expect(error.response?.body.toString()).toBe(whole.slice(0, cut));
  });

  it('keeps the records of an answer that also carries an error element', async () => {
    handler = (_req, _body, res) => {
      res.end(
        `<returnsms>${box(1)}${box(2)}<errorstatus><error>4</error><remark>参数错误</remark></errorstatus></returnsms>`,
      );
    };
    const error = await expectCode(client().fetchReports(), 'BAD_PARAMS');
    expect(error.records.map((r) => r.mobile)).toEqual(['13800130001', '13800130002']);
    expect(error.response?.status).toBe(200);
  });

  it('reports() yields salvaged records before reporting the failure', async () => {
    let calls = 0;
    handler = (_req, _body, res) => {
      calls++;
      if (calls === 1) res.end(`<returnsms>${box(7)}<statusbox><mobile>1`);
      else res.end('<returnsms></returnsms>');
    };
    const errors: SmsError[] = [];
    const seen: string[] = [];
    const controller = new AbortController();
    for await (const report of client().reports({
      intervalMs: 10,
      signal: controller.signal,
      onError: (error) => errors.push(error),
    })) {
      seen.push(report.mobile);
      controller.abort();
    }
    expect(seen).toEqual(['13800130007']);
    expect(errors.map((e) => e.code)).toEqual(['PROTOCOL']);
  });
});

describe('response sink', () => {
  it('gets the head and every body byte before the call returns, in order', async () => {
    const whole = answer(40);
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      res.write(whole.slice(0, 1000));
      setTimeout(() => res.end(whole.slice(1000)), 20);
    };
    const log: string[] = [];
    const chunks: Buffer[] = [];
    const reports = await client().fetchReports({
      sink: {
        head: (status, type) => log.push(`head ${status} ${type}`),
        chunk: (bytes) => {
          chunks.push(Buffer.from(bytes));
          log.push('chunk');
        },
      },
    });
    expect(reports).toHaveLength(40);
    expect(log[0]).toBe('head 200 text/xml; charset=utf-8');
    expect(log.length).toBeGreaterThanOrEqual(3);
    expect(Buffer.concat(chunks).toString()).toBe(whole);
  });

  it('fetchInto hands the answer to the sink unread: an answer a parse would refuse still resolves', async () => {
    const refusal =
      '<returnsms><returnstatus>Faild</returnstatus><message>用户名或密码错误</message></returnsms>';
    const asked: string[] = [];
    handler = (_req, body, res) => {
      asked.push(String(body));
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(refusal);
    };
    const chunks: Buffer[] = [];
    const heads: number[] = [];
    await client().fetchInto(
      'reports',
      { head: (status) => heads.push(status), chunk: (bytes) => chunks.push(Buffer.from(bytes)) },
      { max: 5 },
    );
    expect(heads).toEqual([200]);
    expect(Buffer.concat(chunks).toString()).toBe(refusal);
    expect(asked[0]).toContain('statusNum=5');
    // The same answer read: the refusal fetchInto leaves to its caller.
    await expect(client().fetchReports()).rejects.toBeInstanceOf(SmsError);
    await client().fetchInto('replies', { chunk: (bytes) => chunks.push(Buffer.from(bytes)) });
    expect(asked[2]).not.toContain('statusNum');
  });

  it('fetchInto rejects what a failed exchange rejects (HTTP 500), after the sink saw it', async () => {
    handler = (_req, _body, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html>down</html>');
    };
    const heads: number[] = [];
    const error = await client()
      .fetchInto('reports', { head: (status) => heads.push(status), chunk: () => {} })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(SmsError);
    expect((error as SmsError).code).toBe('HTTP');
    expect(heads).toEqual([500]);
  });

  it('fetchInto refuses a kind it does not know and a missing sink', async () => {
    const sms = client();
    for (const call of [
      () => sms.fetchInto('sends' as never, { chunk: () => {} }),
      () => sms.fetchInto('reports', undefined as never),
      () => sms.fetchInto('reports', { chunk: () => {} }, { max: 0 }),
    ]) {
      const error = await call().catch((thrown: unknown) => thrown);
      expect((error as SmsError).code).toBe('VALIDATION');
    }
  });

  it('a sink that throws is detached and logged; the answer still arrives', async () => {
    handler = (_req, _body, res) => res.end(answer(2));
    const logged: string[] = [];
    const sms = client({ logger: { error: (message) => logged.push(message) } });
    const reports = await sms.fetchReports({
      sink: {
        chunk: () => {
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        },
      },
    });
    expect(reports).toHaveLength(2);
    expect(logged).toEqual(['sms response sink failed; the answer is kept in memory only']);
  });
});
