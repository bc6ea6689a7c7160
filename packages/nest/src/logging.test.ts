import { ConsoleLogger, Injectable, Logger, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { StatusReport } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { OnSmsReport } from './decorators.js';
import { SmsModule } from './sms.module.js';
import { ALPHA, clientOptions, waitFor } from './test-utils/fixtures.js';

/**
 * An application logger as `nestjs-pino` installs one (`app.useLogger(app.get(Logger))`): a
 * provider implementing `LoggerService`, the context as the last argument. It keeps one
 * structured record per call, as a pino logger would write one JSON line.
 */
@Injectable()
class RecordingLogger implements LoggerService {
  readonly records: Array<{ level: string; context: unknown; msg: string }> = [];
  #record(level: string, message: unknown, params: unknown[]) {
    this.records.push({ level, context: params.at(-1), msg: String(message) });
  }
  log(message: unknown, ...params: unknown[]) {
    this.#record('info', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.#record('warn', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.#record('error', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.#record('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.#record('trace', message, params);
  }
}

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, accounts: [ALPHA] });
});
afterAll(() => emulator.close());
afterEach(() => {
  vi.restoreAllMocks();
  // Nest's logger override is process-wide: hand the console back.
  Logger.overrideLogger(new ConsoleLogger());
});

@Injectable()
class FailingInbox {
  @OnSmsReport()
  onReport(_report: StatusReport) {
    throw new Error('database down');
  }

  @OnSmsReport('bad')
  onBadReport(_report: StatusReport) {}
}

describe("the module logs through Nest's Logger", () => {
  it("an app logger installed with useLogger (as nestjs-pino does) receives the module's lines, with context and without the password", async () => {
    const wrong = 'wrong-secret-pw-1';
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRoot({
          ...clientOptions(emulator, ALPHA),
          polling: { reports: true, replies: true, intervalMs: 30, retry: { attempts: 1 } },
        }),
        SmsModule.forRoot({
          name: 'bad',
          ...clientOptions(emulator, { ...ALPHA, password: wrong }),
          polling: { reports: true, intervalMs: 30 },
        }),
      ],
      providers: [RecordingLogger, FailingInbox],
    }).compile();
    const logger = moduleRef.get(RecordingLogger);
    moduleRef.useLogger(logger);
    const stdout = vi.spyOn(process.stdout, 'write');
    const stderr = vi.spyOn(process.stderr, 'write');
    await moduleRef.init();

    // A handler that throws: the dispatcher's warning, then the last-resort dead letter.
    emulator.injectReport({ account: 'alpha', mobile: '13800138000', taskId: '42', status: 10 });
    await waitFor(
      () =>
        logger.records.some((r) => r.msg.includes('AUTH_FAILED')) &&
        logger.records.some((r) => r.msg.includes('dead letter')),
      10_000,
    );
    await moduleRef.close();

    const lines = logger.records;
    // Bootstrap: polling replies without an @OnSmsReply handler.
    expect(lines).toContainEqual({
      level: 'warn',
      context: 'SmsModule',
      msg: expect.stringContaining('polling.replies is on but no @OnSmsReply() handler exists'),
    });
    // The poller of the misconfigured client, under its own context.
    expect(lines).toContainEqual({
      level: 'warn',
      context: 'SmsModule:bad',
      msg: expect.stringMatching(/^fetching reports failed: AUTH_FAILED/),
    });
    // The dispatcher logs through the same logger.
    expect(lines).toContainEqual({
      level: 'warn',
      context: 'SmsModule',
      msg: expect.stringContaining('FailingInbox.onReport threw on report'),
    });
    expect(lines).toContainEqual({
      level: 'error',
      context: 'SmsModule',
      msg: expect.stringContaining('dead letter'),
    });
    const text = JSON.stringify(lines);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(ALPHA.password);
    // Nothing of the module's went to Nest's default console logger instead.
    const printed = [...stdout.mock.calls, ...stderr.mock.calls]
      .map(([chunk]) => String(chunk))
      .join('');
    expect(printed).not.toMatch(/SmsModule/);
  });
});
