import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Inject, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsHealthIndicator } from './health.js';
import { SmsModule } from './sms.module.js';
import { ALPHA, clientOptions } from './test-utils/fixtures.js';

@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(SmsHealthIndicator) private readonly sms: SmsHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.sms.isHealthy('sms')]);
  }

  @Get('bad')
  @HealthCheck()
  bad() {
    return this.health.check([() => this.sms.isHealthy('sms', { client: 'bad' })]);
  }

  @Get('offline')
  @HealthCheck()
  offline() {
    return this.health.check([() => this.sms.isHealthy('sms', { client: 'offline' })]);
  }

  @Get('low')
  @HealthCheck()
  low() {
    return this.health.check([() => this.sms.isHealthy('sms', { minBalance: 10_000 })]);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: terminus' JSON, checked field by field below
type HealthBody = { status: string; info: any; error: any };

let emulator: Emulator;
let app: INestApplication;
let base: string;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, accounts: [ALPHA] });
  // A port nothing listens on: taken, then released.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const moduleRef = await Test.createTestingModule({
    imports: [
      TerminusModule.forRoot({ logger: false }),
      SmsModule.forRoot(clientOptions(emulator, ALPHA)),
      SmsModule.forRoot({ ...clientOptions(emulator, ALPHA), password: 'wrong', name: 'bad' }),
      SmsModule.forRoot({
        ...clientOptions(emulator, ALPHA),
        baseUrl: `http://127.0.0.1:${closedPort}`,
        name: 'offline',
      }),
    ],
    controllers: [HealthController],
    providers: [SmsHealthIndicator],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  base = await app.getUrl();
});
afterAll(async () => {
  await app?.close();
  await emulator?.close();
});

describe('SmsHealthIndicator', () => {
  it('is up with the balance', async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as HealthBody;
    expect(body.status).toBe('ok');
    expect(body.info.sms).toEqual({
      status: 'up',
      payType: 'prepaid',
      overage: 500,
      sendTotal: 500,
    });
  });

  it('is down with the reason when the platform refuses', async () => {
    const response = await fetch(`${base}/health/bad`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as HealthBody;
    expect(body.status).toBe('error');
    expect(body.error.sms.status).toBe('down');
    expect(body.error.sms.code).toBe('AUTH_FAILED');
    expect(body.error.sms.message).toContain('AUTH_FAILED');
    expect(JSON.stringify(body)).not.toContain('wrong');
    expect(JSON.stringify(body)).not.toContain(ALPHA.password);
  });

  it('is down when the prepaid balance is below minBalance', async () => {
    const response = await fetch(`${base}/health/low`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as HealthBody;
    expect(body.error.sms).toMatchObject({ status: 'down', overage: 500 });
    expect(body.error.sms.message).toMatch(/below 10000/);
  });

  it('is down when the platform is unreachable (connection refused)', async () => {
    const response = await fetch(`${base}/health/offline`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as HealthBody;
    expect(body.status).toBe('error');
    expect(body.error.sms).toMatchObject({ status: 'down', code: 'NETWORK' });
    expect(body.error.sms.message).toContain('ECONNREFUSED');
    expect(JSON.stringify(body)).not.toContain(ALPHA.password);
  });

  it('is down when the platform answers an HTTP 500 page', async () => {
    emulator.setFault({ type: 'html500' });
    try {
      const response = await fetch(`${base}/health`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as HealthBody;
      expect(body.error.sms.status).toBe('down');
      expect(body.error.sms.code).toBe('HTTP');
    } finally {
      emulator.setFault(null);
    }
  });
});
