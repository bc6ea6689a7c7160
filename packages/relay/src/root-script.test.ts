import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

it('pnpm sms-relay runs the built command from the repository root, as the guides say', () => {
  const result = spawnSync('pnpm', ['-s', 'sms-relay', '--help'], { cwd: ROOT, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toContain('sms-relay');
});

it('pnpm -s sms-relay secret prints a secret from the repository root (docs/relay.md)', () => {
  const result = spawnSync('pnpm', ['-s', 'sms-relay', 'secret'], { cwd: ROOT, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}\n$/);
});
