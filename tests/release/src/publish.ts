/**
 * What a release does, on a scratch copy of the workspace: `changeset version` on the pending
 * changesets, then `changeset publish` (which packs with `pnpm publish`, replacing `workspace:`
 * ranges) to the local registry. The built `dist/` folders are copied as they are: the release
 * script builds first (`pnpm release`), and `pnpm test` builds before this test runs.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { LocalRegistry } from './registry.js';

export const root = resolve(import.meta.dirname, '../../..');

export interface Published {
  version: string;
  names: string[];
  log: string;
}

const changesetBin = join(root, 'node_modules/@changesets/cli/bin.js');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const readManifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/**
 * What `pnpm install` links for each package's `workspace:` dependencies, and all that
 * `pnpm publish` needs to turn a `workspace:^` range into the sibling's version.
 */
function linkWorkspaceDependencies(scratch: string): void {
  const dirs = new Map(
    readdirSync(join(scratch, 'packages')).map((name) => {
      const dir = join(scratch, 'packages', name);
      return [readManifest(dir).name, dir] as const;
    }),
  );
  for (const dir of dirs.values()) {
    const manifest = readManifest(dir);
    const sections = [manifest.dependencies, manifest.devDependencies, manifest.peerDependencies];
    const linked = new Set<string>();
    for (const [name, range] of sections.flatMap((section) => Object.entries(section ?? {}))) {
      const target = dirs.get(name);
      if (!range.startsWith('workspace:') || !target || linked.has(name)) continue;
      linked.add(name);
      const link = join(dir, 'node_modules', name);
      mkdirSync(join(link, '..'), { recursive: true });
      symlinkSync(target, link);
    }
  }
}

const execFileAsync = promisify(execFile);

export async function versionAndPublish(
  scratch: string,
  registry: LocalRegistry,
): Promise<Published> {
  cpSync(join(root, 'package.json'), join(scratch, 'package.json'));
  cpSync(join(root, '.changeset'), join(scratch, '.changeset'), { recursive: true });
  writeFileSync(join(scratch, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
  for (const name of readdirSync(join(root, 'packages'))) {
    cpSync(join(root, 'packages', name), join(scratch, 'packages', name), {
      recursive: true,
      filter: (source) =>
        !source.split(sep).some((part) => part === 'node_modules' || part === '.turbo'),
    });
  }
  // The changesets command itself, from the workspace.
  symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'));
  linkWorkspaceDependencies(scratch);
  writeFileSync(join(scratch, '.npmrc'), registry.npmrc);

  const git = (...args: string[]) =>
    execFileSync(
      'git',
      ['-c', 'user.name=rehearsal', '-c', 'user.email=rehearsal@localhost', ...args],
      {
        cwd: scratch,
        stdio: 'pipe',
      },
    );
  git('init', '-q', '-b', 'main');
  // The registry is named in the environment too: changesets reads it there, not from .npmrc,
  // and without it would name registry.npmjs.org to the publish command.
  const env = {
    ...process.env,
    'npm_config_@sms:registry': registry.url,
    npm_config_registry: registry.url,
  };
  // Not execFileSync: a blocked event loop would leave the registry's keep-alive sockets in the
  // pool after it closed them, and the next request would fail with "other side closed".
  const changeset = async (command: string) => {
    const { stdout, stderr } = await execFileAsync(process.execPath, [changesetBin, command], {
      cwd: scratch,
      env,
    });
    return `${stdout}${stderr}`;
  };
  let log = await changeset('version');
  git('add', '-A');
  git('commit', '-q', '-m', 'version packages');
  log += await changeset('publish');

  const manifests = readdirSync(join(scratch, 'packages')).map((name) =>
    readManifest(join(scratch, 'packages', name)),
  );
  const versions = new Set(manifests.map((m) => m.version));
  if (versions.size !== 1) throw new Error(`one version expected, got ${[...versions].join(', ')}`);
  return {
    version: [...versions][0] as string,
    names: manifests.filter((m) => !m.private).map((m) => m.name),
    log,
  };
}
