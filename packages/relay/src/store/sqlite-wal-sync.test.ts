import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

/** The built store (dist), run under strace in another process. */
const DIST = new URL('../../dist/index.js', import.meta.url).href;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * An enqueue is answered (the 202) and a claim hands its messages to the sends only once its
 * commit is on disk. Both commit without an fsync of their own and then sync the WAL off the
 * event loop (store/sqlite-wal-sync.ts), so this is checked where it happens: strace records
 * every write to the WAL, every sync of it and the moment each call returned (a marker the
 * script writes to stdout), and between the last WAL write before a call returned and that
 * moment there must be a completed sync of the WAL.
 */
it('a SQLite gateway enqueue (the 202) and claim (the sends) return only after the WAL holding them was synced', {
  timeout: 60_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-relay-walsync-'));
  dirs.push(dir);
  const log = join(dir, 'strace.log');
  const script = `
    import { writeSync } from 'node:fs';
    import { sqliteStore } from ${JSON.stringify(DIST)};
    const store = await sqliteStore({ path: ${JSON.stringify(join(dir, 'relay.db'))} });
    for (let i = 0; i < 20; i++) {
      await store.messages.enqueue({
        id: 'sms_01JQ0000000000000000000' + String(i).padStart(3, '0'), idempotencyKey: null,
        requestHash: 'h', account: 'main', mobiles: ['13800138000'], content: 'walsync ' + i,
        sendAt: null, extNo: '', metadata: null, callbackUrl: null, expiresAt: null, now: 1,
      });
      writeSync(1, 'ENQUEUED\\n');
    }
    for (let round = 0; round < 4; round++) {
      const claimed = await store.messages.claim({ account: 'main', limit: 5, now: 2, leaseMs: 60000 });
      writeSync(1, 'CLAIMED ' + claimed.length + '\\n');
    }
    await store.close();
  `;
  const child = spawn(
    'strace',
    [
      '-f',
      '-y',
      '-qq',
      '-o',
      log,
      '-e',
      'trace=write,pwrite64,fsync,fdatasync',
      process.execPath,
      '--input-type=module',
      '-e',
      script,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, stderr).toBe(0);
  expect(stdout).toBe(`${'ENQUEUED\n'.repeat(20)}${'CLAIMED 5\n'.repeat(4)}`);

  const lines = readFileSync(log, 'utf8').split('\n');
  const isWalWrite = (line: string) => /pwrite64\(\d+<[^>]*relay\.db-wal>/.test(line);
  const walSyncStart = (line: string) => /f(?:data)?sync\(\d+<[^>]*relay\.db-wal>/.test(line);
  const pidOf = (line: string) => line.split(' ', 1)[0];
  const markers = lines.flatMap((line, i) =>
    line.includes('"CLAIMED ') || line.includes('"ENQUEUED') ? [i] : [],
  );
  expect(markers).toHaveLength(24);
  const checked = markers.map((marker) => {
    let lastWrite = -1;
    for (let i = marker - 1; i >= 0; i--) {
      if (isWalWrite(lines[i]!)) {
        lastWrite = i;
        break;
      }
    }
    // A sync of the WAL that began after that write and finished before the claim returned.
    let synced = false;
    for (let i = lastWrite + 1; i < marker && !synced; i++) {
      const line = lines[i]!;
      if (!walSyncStart(line)) continue;
      if (/\) = 0$/.test(line)) synced = true;
      else if (line.endsWith('<unfinished ...>')) {
        const pid = pidOf(line);
        synced = lines
          .slice(i + 1, marker)
          .some((later) => pidOf(later) === pid && /sync resumed>.*= 0$/.test(later));
      }
    }
    return { lastWrite, synced };
  });
  expect(checked.every((c) => c.lastWrite >= 0)).toBe(true);
  expect(checked.filter((c) => !c.synced)).toEqual([]);
});
