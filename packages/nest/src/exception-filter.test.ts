/** SmsExceptionFilter in real Nest apps (Express and Fastify) against a real emulator. */
import { Body, Controller, Get, type INestApplication, Post, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { SmsClient } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsExceptionFilter } from './exception-filter.js';

const PASSWORD = 'Pa55-w0rd-never-shown';
let emulator: Emulator;

/** Clients by name, so each route can reach the platform a different way. */
const clients: Record<string, SmsClient> = {};

@Controller('sms')
class SmsController {
  @Post()
  send(@Body() body: { mobile: string; content: string }, @Query('via') via = 'ok') {
    return clients[via]!.send({ mobiles: [body.mobile], content: body.content });
  }

  @Get('balance')
  balance(@Query('via') via = 'ok') {
    return clients[via]!.balance();
  }
}

beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [
      { userId: '12', account: 'demo', password: PASSWORD, balance: 100 },
      { userId: '13', account: 'poor', password: PASSWORD, balance: 0 },
    ],
  });
  const base = { baseUrl: emulator.url, userId: '12', account: 'demo', password: PASSWORD };
  clients['ok'] = new SmsClient(base);
  clients['wrong'] = new SmsClient({ ...base, password: `${PASSWORD}-typo` });
  clients['poor'] = new SmsClient({ ...base, userId: '13', account: 'poor' });
  clients['down'] = new SmsClient({ ...base, baseUrl: 'http://127.0.0.1:9', retry: false });
  clients['slow'] = new SmsClient({ ...base, timeoutMs: 100, retry: false });
});
afterAll(async () => {
  await Promise.all(Object.values(clients).map((c) => c.close()));
  await emulator.close();
});

async function call(url: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  expect(text).not.toContain(PASSWORD);
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
}

const ok = { mobile: '13800138000', content: '【示例】验证码 1234' };

describe('on Express, registered with useGlobalFilters(new SmsExceptionFilter())', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [SmsController] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new SmsExceptionFilter());
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(() => app.close());

  it('a bad mobile ("12345") is 400 with the field, not 500', async () => {
    const { status, json } = await call(url, '/sms', { ...ok, mobile: '12345' });
    expect(status).toBe(400);
    expect(json).toMatchObject({ statusCode: 400, code: 'VALIDATION', field: 'mobiles' });
    expect(json['message']).toMatch(/mobile/);
    expect(emulator.sent()).toHaveLength(0);
  });

  it('blocked words are 422 with the words; a missing signature 422', async () => {
    const blocked = await call(url, '/sms', { ...ok, content: '【示例】六合彩' });
    expect(blocked.status).toBe(422);
    expect(blocked.json).toMatchObject({ code: 'ILLEGAL_KEYWORD', words: ['六合彩'] });
    expect(blocked.json['platformMessage']).toMatch(/^包含非法字符/);
  });

  it('the platform refusing this service (wrong password) is 502, the password nowhere', async () => {
    const { status, json } = await call(url, '/sms?via=wrong', ok);
    expect(status).toBe(502);
    expect(json).toMatchObject({ code: 'AUTH_FAILED', platformMessage: '用户名或密码错误' });
    expect(JSON.stringify(json)).not.toContain('typo');
  });

  it('no balance is 503', async () => {
    const { status, json } = await call(url, '/sms?via=poor', ok);
    expect(status).toBe(503);
    expect(json).toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
  });

  it('a reset after the platform took the send is 504 saying it may have been sent', async () => {
    emulator.setFault({ type: 'reset', action: 'send', times: 1 });
    const { status, json } = await call(url, '/sms', ok);
    expect(status).toBe(504);
    expect(json).toMatchObject({ code: 'UNKNOWN_OUTCOME', mayHaveBeenSent: true });
    expect(json['message']).toMatch(/may have accepted/);
    expect(emulator.sent()).toHaveLength(1);
  });

  it('an unreachable platform is 503, a slow one 504', async () => {
    const down = await call(url, '/sms/balance?via=down');
    expect(down).toMatchObject({ status: 503, json: { code: 'NETWORK' } });
    emulator.setFault({ type: 'latency', ms: 500, times: 1 });
    const slow = await call(url, '/sms/balance?via=slow');
    expect(slow).toMatchObject({ status: 504, json: { code: 'TIMEOUT' } });
    expect(slow.json['mayHaveBeenSent']).toBeUndefined();
  });

  it('success still answers as usual', async () => {
    const { status, json } = await call(url, '/sms', ok);
    expect(status).toBe(201);
    expect(json['taskId']).toEqual(expect.any(String));
  });
});

describe('on Fastify, created by NestFactory', () => {
  it('answers the same statuses and bodies', async () => {
    const { Module } = await import('@nestjs/common');
    @Module({ controllers: [SmsController] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
    app.useGlobalFilters(new SmsExceptionFilter());
    await app.listen(0, '127.0.0.1');
    try {
      const url = await app.getUrl();
      const bad = await call(url, '/sms', { ...ok, mobile: '12345' });
      expect(bad).toMatchObject({ status: 400, json: { code: 'VALIDATION', field: 'mobiles' } });
      const wrong = await call(url, '/sms?via=wrong', ok);
      expect(wrong).toMatchObject({ status: 502, json: { code: 'AUTH_FAILED' } });
    } finally {
      await app.close();
    }
  });
});
