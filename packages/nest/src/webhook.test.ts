import { Controller, HttpCode, type INestApplication, Post, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { generateWebhookSecret, webhookHeaders } from '@sms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsWebhookEvent, SmsWebhookGuard, SmsWebhookModule } from './webhook.js';

const secret = generateWebhookSecret();
const received: SmsWebhookEvent[] = [];

@Controller('webhooks')
class WebhookController {
  @Post('sms')
  @HttpCode(204)
  @UseGuards(SmsWebhookGuard)
  receive(@SmsWebhookEvent() event: SmsWebhookEvent): void {
    received.push(event);
  }

  @Post('unguarded')
  unguarded(@SmsWebhookEvent() event: SmsWebhookEvent): SmsWebhookEvent {
    return event;
  }
}

const event = {
  type: 'sms.reply',
  timestamp: '2026-01-01T00:00:00.000Z',
  data: {
    account: 'alpha',
    mobile: '13800138000',
    taskId: '9007199254740993',
    content: '好的，收到',
    receivedAt: '2026-01-01T00:00:00.000Z',
    receiveTime: '2026-01-01 08:00:00',
    extNo: '01',
  },
};

let app: INestApplication;
let url: string;

function signed(body: string, options: { secret?: string; timestamp?: number; id?: string } = {}) {
  return webhookHeaders({
    id: options.id ?? `msg_${Math.random().toString(36).slice(2)}`,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
    body,
    secrets: [options.secret ?? secret],
  });
}

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [SmsWebhookModule.forRoot({ secret, toleranceSeconds: 60 })],
    controllers: [WebhookController],
  }).compile();
  app = moduleRef.createNestApplication({ rawBody: true, logger: false });
  await app.listen(0, '127.0.0.1');
  url = await app.getUrl();
});
afterAll(() => app?.close());

describe('SmsWebhookGuard over real HTTP', () => {
  it('accepts a signed request and hands the typed event to the handler', async () => {
    const body = JSON.stringify(event);
    const response = await fetch(`${url}/webhooks/sms`, {
      method: 'POST',
      headers: signed(body),
      body,
    });
    expect(response.status).toBe(204);
    expect(received.at(-1)).toEqual(event);
  });

  it('verifies the exact bytes received, not re-serialised JSON', async () => {
    const body = `{ "type":"sms.report",  "timestamp":"2026-01-01T00:00:00Z", "data": {"account":"a","mobile":"13800138000","taskId":"1","status":"delivered","statusCode":10,"receivedAt":"x","receiveTime":"y","errorCode":"DELIVRD","extNo":""} }`;
    const response = await fetch(`${url}/webhooks/sms`, {
      method: 'POST',
      headers: signed(body),
      body,
    });
    expect(response.status).toBe(204);
    expect(received.at(-1)?.type).toBe('sms.report');
  });

  it('rejects a body signed with another secret', async () => {
    const count = received.length;
    const body = JSON.stringify(event);
    const response = await fetch(`${url}/webhooks/sms`, {
      method: 'POST',
      headers: signed(body, { secret: generateWebhookSecret() }),
      body,
    });
    expect(response.status).toBe(401);
    expect(received.length).toBe(count);
  });

  it('rejects a tampered body', async () => {
    const body = JSON.stringify(event);
    const headers = signed(body);
    const forged = body.replace('好的，收到', '退订');
    const response = await fetch(`${url}/webhooks/sms`, { method: 'POST', headers, body: forged });
    expect(response.status).toBe(401);
  });

  it('rejects a stale request (a replay outside the tolerance)', async () => {
    const body = JSON.stringify(event);
    const headers = signed(body, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    const response = await fetch(`${url}/webhooks/sms`, { method: 'POST', headers, body });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { message: string }).message).toMatch(/tolerance/);
  });

  it('rejects an unsigned request', async () => {
    const response = await fetch(`${url}/webhooks/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(response.status).toBe(401);
  });

  it('answers 400 to a signed body that is not an SMS event', async () => {
    const body = JSON.stringify({ hello: 'world' });
    const response = await fetch(`${url}/webhooks/sms`, {
      method: 'POST',
      headers: signed(body),
      body,
    });
    expect(response.status).toBe(400);
  });

  it('@SmsWebhookEvent() without the guard is a server error, not an unverified event', async () => {
    const body = JSON.stringify(event);
    const response = await fetch(`${url}/webhooks/unguarded`, {
      method: 'POST',
      headers: signed(body),
      body,
    });
    expect(response.status).toBe(500);
  });
});

describe('without rawBody: true', () => {
  it('refuses with 400 instead of verifying re-serialised JSON', async () => {
    @Controller()
    class Hook {
      @Post('hook')
      @UseGuards(SmsWebhookGuard)
      receive(@SmsWebhookEvent() e: SmsWebhookEvent) {
        return e.type;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [SmsWebhookModule.forRootAsync({ useFactory: () => ({ secret }) })],
      controllers: [Hook],
    }).compile();
    const plain = moduleRef.createNestApplication({ logger: false });
    await plain.listen(0, '127.0.0.1');
    try {
      const body = JSON.stringify(event);
      const response = await fetch(`${await plain.getUrl()}/hook`, {
        method: 'POST',
        headers: signed(body),
        body,
      });
      expect(response.status).toBe(400);
    } finally {
      await plain.close();
    }
  });

  it('works in an app created with NestFactory.create(..., { rawBody: true })', async () => {
    @Controller()
    class Hook {
      @Post('hook')
      @UseGuards(SmsWebhookGuard)
      receive(@SmsWebhookEvent() e: SmsWebhookEvent) {
        return { type: e.type, mobile: e.data.mobile };
      }
    }
    const { Module } = await import('@nestjs/common');
    @Module({
      imports: [SmsWebhookModule.forRoot({ secret, isGlobal: true })],
      controllers: [Hook],
    })
    class AppModule {}
    const real = await NestFactory.create(AppModule, { rawBody: true, logger: false });
    await real.listen(0, '127.0.0.1');
    try {
      const body = JSON.stringify(event);
      const response = await fetch(`${await real.getUrl()}/hook`, {
        method: 'POST',
        headers: signed(body),
        body,
      });
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ type: 'sms.reply', mobile: '13800138000' });
    } finally {
      await real.close();
    }
  });
});

describe('on the Fastify adapter', () => {
  it('accepts a signed request and rejects a forged one', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SmsWebhookModule.forRoot({ secret })],
      controllers: [WebhookController],
    }).compile();
    const fastify = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      rawBody: true,
      logger: false,
    });
    await fastify.listen(0, '127.0.0.1');
    try {
      const base = await fastify.getUrl();
      const body = JSON.stringify(event);
      const ok = await fetch(`${base}/webhooks/sms`, {
        method: 'POST',
        headers: signed(body),
        body,
      });
      expect(ok.status).toBe(204);
      expect(received.at(-1)).toEqual(event);
      const forged = await fetch(`${base}/webhooks/sms`, {
        method: 'POST',
        headers: signed(body, { secret: generateWebhookSecret() }),
        body,
      });
      expect(forged.status).toBe(401);
    } finally {
      await fastify.close();
    }
  });
});
