import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWebhookSecret } from '@sms/core';
import { type Emulator, type EmulatorOptions, startEmulator } from '@sms/emulator';
import pg from 'pg';
import { type RelayLogger, jsonLogger } from '../shared/logger.js';

export const PASSWORD = 'p@ss-w0rd-secret';

export async function emulator(extra: EmulatorOptions['accounts'] = []): Promise<Emulator> {
  return startEmulator({
    accounts: [{ userId: '12', account: 'demo', password: PASSWORD, balance: 100_000 }, ...extra],
  });
}

/** The emulator's demo account as a relay config's `accounts[]` entry, named `main`. */
export function demoAccount(baseUrl: string, extra: Record<string, unknown> = {}) {
  return { name: 'main', baseUrl, userId: '12', account: 'demo', password: PASSWORD, ...extra };
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sms-relay-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A logger that keeps its lines, for asserting on them. */
export function memoryLogger(redact: string[] = []): RelayLogger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(jsonLogger({ level: 'debug', redact, write: (line) => lines.push(line) }), {
    lines,
  });
}

export const secret = generateWebhookSecret();

let n = 0;
/** A unique report input for the demo account. */
export function report(status: 10 | 20 = 10) {
  n++;
  return {
    account: 'demo',
    mobile: `138${String(n).padStart(8, '0')}`,
    taskId: String(9_007_199_254_740_993n + BigInt(n)),
    status,
  };
}

export const TEST_DATABASE_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A PostgreSQL schema of its own for a test (`<prefix>_<random>`, not created) and a connection
 * to look at it with; `drop` removes the schema and closes the connection.
 */
export async function scratchSchema(
  prefix: string,
): Promise<{ schema: string; admin: pg.Client; drop: () => Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  return {
    schema,
    admin,
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}

/**
 * A relay config's `store` for a test: a SQLite file in `dir`, or a PostgreSQL schema of its
 * own (`<prefix>_<random>`); `drop` removes the schema (the folder is the caller's).
 */
export function storeForTest(kind: 'sqlite' | 'postgres', dir: string, prefix: string) {
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  const config: { sqlite: string } | { postgres: string; schema: string } =
    kind === 'sqlite' ? { sqlite: join(dir, 'relay.db') } : { postgres: TEST_DATABASE_URL, schema };
  return {
    config,
    schema,
    async drop(): Promise<void> {
      if (kind === 'sqlite') return;
      const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.end();
    },
  };
}
