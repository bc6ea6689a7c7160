import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const scratch = mkdtempSync(join(tmpdir(), 'sms-release-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  peerDependencies?: Record<string, string>;
}
const manifests = (dir: string): Manifest[] =>
  readdirSync(join(dir, 'packages')).map(
    (name) =>
      JSON.parse(readFileSync(join(dir, 'packages', name, 'package.json'), 'utf8')) as Manifest,
  );

it('`changeset version` on the pending changesets releases every package together, still 0.x', {
  timeout: 60_000,
}, () => {
  // A scratch copy of what the release would version: manifests and changesets.
  for (const path of ['package.json', 'pnpm-workspace.yaml', '.changeset']) {
    cpSync(join(root, path), join(scratch, path), { recursive: true });
  }
  for (const name of readdirSync(join(root, 'packages'))) {
    cpSync(
      join(root, 'packages', name, 'package.json'),
      join(scratch, 'packages', name, 'package.json'),
    );
  }
  symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: scratch });
  const before = manifests(scratch);
  execFileSync(process.execPath, [join(root, 'node_modules/@changesets/cli/bin.js'), 'version'], {
    cwd: scratch,
    stdio: 'pipe',
  });
  const after = manifests(scratch);
  const versions = new Set(after.map((m) => m.version));
  // One fixed group: one version for all.
  expect(versions.size).toBe(1);
  const [version] = [...versions] as [string];
  // The first releases stay 0.x: a peer dependency among siblings must not force a major.
  expect(Number(version.split('.')[0])).toBe(0);
  expect(version).not.toBe(before[0]!.version);
  // Peer ranges on siblings are left as written.
  for (const [i, manifest] of after.entries()) {
    expect(manifest.peerDependencies, manifest.name).toEqual(before[i]!.peerDependencies);
  }
});
