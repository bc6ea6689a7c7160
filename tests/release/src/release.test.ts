/**
 * The release rehearsal. The packages are versioned and published by changesets to a local
 * Verdaccio, then installed as a new user installs them: plain `npm install` (no flags) in
 * fresh folders outside the workspace, whose `.npmrc` points only `@sms` at the registry
 * (everything else comes from npmjs). A file left out of `files`, a `workspace:` range left in,
 * a dependency only the workspace provides or a bin that does not start fails here.
 */
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SmsWebhookEvent, generateWebhookSecret, verifyWebhook } from '@sms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Block, firstExample } from './blocks.js';
import { type Published, root, versionAndPublish } from './publish.js';
import { type LocalRegistry, startRegistry } from './registry.js';
import { type Run, run, start } from './run.js';

const work = mkdtempSync(join(tmpdir(), 'sms-release-'));
const fixtures = join(import.meta.dirname, '..', 'fixtures');
/** The documented default of `npx @sms/emulator`, which every README example uses. */
const EMULATOR_URL = 'http://127.0.0.1:8080';

let registry: LocalRegistry;
let published: Published;
const running: ChildProcess[] = [];

/** A fresh folder outside the workspace with an `.npmrc` for `@sms` only, and a fixture. */
function project(name: string, fixture?: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  if (fixture) cpSync(join(fixtures, fixture), dir, { recursive: true });
  const manifest = join(dir, 'package.json');
  try {
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8').replaceAll('SMS_VERSION', published.version),
    );
  } catch {
    // no manifest: a folder for npx
  }
  writeFileSync(join(dir, '.npmrc'), `@sms:registry=${registry.url}\n`);
  return dir;
}

const installs: Record<string, Promise<Run>> = {};

beforeAll(async () => {
  registry = await startRegistry(join(work, 'registry'));
  published = await versionAndPublish(join(work, 'scratch'), registry);
  // The slow part, side by side: two apps' installs and npx's own install of each command.
  installs['nest-app'] = run('npm', ['install'], project('nest-app', 'nest-app'), work);
  installs['node-app'] = run('npm', ['install'], project('node-app', 'node-app'), work);
  const npxDir = project('npx');
  installs['@sms/emulator'] = run('npx', ['--yes', '@sms/emulator', '--help'], npxDir, work);
  installs['@sms/cli'] = run('npx', ['--yes', '@sms/cli', '--help'], npxDir, work);
  // The relay builds better-sqlite3 from source, as the node app's install does: one build at
  // a time, so the rehearsal leaves a core to the other packages' tests running beside it.
  installs['@sms/webhook-relay'] = installs['node-app'].then(() =>
    run('npx', ['--yes', '@sms/webhook-relay', '--help'], npxDir, work),
  );
}, 120_000);

afterAll(async () => {
  for (const child of running) stop(child);
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

function stop(child: ChildProcess): void {
  // npx runs the command as its child: signal the whole group.
  if (child.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

async function installed(name: string): Promise<void> {
  const result = await installs[name];
  expect(result?.code, `${name}:\n${result?.output}`).toBe(0);
}

let emulatorStarted: Promise<void> | undefined;

/** `npx @sms/emulator` with no flags, on its documented default address: started once. */
function defaultEmulator(): Promise<void> {
  emulatorStarted ??= (async () => {
    await installed('@sms/emulator');
    const emulator = start('npx', ['--yes', '@sms/emulator'], join(work, 'npx'), work);
    running.push(emulator.child);
    await emulator.waitFor(/listening on http:\/\/127\.0\.0\.1:8080/);
  })();
  return emulatorStarted;
}

/** relay.json as docs/relay.md writes it: secrets from the environment. */
function relayConfig(targetUrl: string): string {
  return JSON.stringify({
    store: { sqlite: './relay.db' },
    accounts: [
      {
        name: 'main',
        baseUrl: EMULATOR_URL,
        userId: '12',
        account: 'demo',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's own ${VAR}
        password: '${SMS_PASSWORD}',
        pollIntervalMs: 100,
      },
    ],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's own ${VAR}
    targets: [{ name: 'app', url: targetUrl, secret: '${WEBHOOK_SECRET}' }],
  });
}

/** A TypeScript example compiled as a user's project compiles it (strict); returns what to run. */
async function compileTypeScript(dir: string, name: string, block: Block): Promise<string> {
  writeFileSync(join(dir, 'readme', `${name}.ts`), block.code);
  const files = [`readme/${name}.ts`];
  if (name === 'nest') {
    // The example is a module, as the README says: main.ts bootstraps it.
    writeFileSync(
      join(dir, 'readme', 'nest-main.ts'),
      [
        "import 'reflect-metadata';",
        "import { NestFactory } from '@nestjs/core';",
        "import { AppModule } from './nest.js';",
        "const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });",
        'app.enableShutdownHooks();',
        'await new Promise((resolve) => setTimeout(resolve, 500));',
        'await app.close();',
        '',
      ].join('\n'),
    );
    files.push('readme/nest-main.ts');
  }
  writeFileSync(
    join(dir, `tsconfig.${name}.json`),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        skipLibCheck: true,
        types: ['node'],
        rootDir: 'readme',
        outDir: 'readme-dist',
      },
      files,
    }),
  );
  const compiled = await run(
    'node',
    ['node_modules/typescript/bin/tsc', '-p', `tsconfig.${name}.json`],
    dir,
    work,
  );
  expect(compiled.code, `${name} README line ${block.line}:\n${compiled.output}`).toBe(0);

  return `readme-dist/${name === 'nest' ? 'nest-main' : name}.js`;
}

describe('release rehearsal', () => {
  it('changeset publish uploads every package at one version, with no workspace: range left', async () => {
    expect(published.names.sort()).toEqual([
      '@sms/cli',
      '@sms/core',
      '@sms/emulator',
      '@sms/nest',
      '@sms/nodemailer',
      '@sms/notify',
      '@sms/webhook-relay',
    ]);
    for (const name of published.names) {
      const packument = (await (
        await fetch(`${registry.url}${name.replace('/', '%2f')}`)
      ).json()) as {
        'dist-tags': { latest: string };
        versions: Record<string, Record<string, unknown>>;
      };
      expect(packument['dist-tags'].latest, name).toBe(published.version);
      const manifest = JSON.stringify(packument.versions[published.version]);
      expect(manifest, name).not.toContain('workspace:');
    }
  });

  it('a new Nest 12 app installs @sms/nest with plain npm install: forRoot, @OnSmsReport and the health check work', {
    timeout: 300_000,
  }, async () => {
    await installed('nest-app');
    const dir = join(work, 'nest-app');
    const build = await run('npm', ['run', 'build'], dir, work);
    expect(build.code, build.output).toBe(0);
    const app = await run('node', ['dist/main.js'], dir, work);
    expect(app.code, app.output).toBe(0);
    const result = JSON.parse(app.stdout.trim().split('\n').at(-1) ?? '') as {
      nest: string;
      taskId: string;
      reports: Array<{ taskId: string; mobile: string; status: string }>;
      health: { status: number; body: { status: string; info: Record<string, unknown> } };
      sent: string[][];
    };
    expect(result.nest.split('.')[0]).toBe('12');
    expect(result.sent).toEqual([['13800138000']]);
    expect(result.reports).toEqual([
      { taskId: result.taskId, mobile: '13800138000', status: 'delivered' },
    ]);
    expect(result.health.status).toBe(200);
    expect(result.health.body).toMatchObject({ status: 'ok', info: { sms: { status: 'up' } } });
  });

  it('a plain Node app sends through Nodemailer, notifme-sdk and Novu’s provider interface', {
    timeout: 300_000,
  }, async () => {
    await installed('node-app');
    const app = await run('node', ['send.mjs'], join(work, 'node-app'), work);
    expect(app.code, app.output).toBe(0);
    const result = JSON.parse(app.stdout.trim().split('\n').at(-1) ?? '') as {
      nodemailer: { messageId: string; accepted: string[] };
      notifme: { status: string };
      novu: { id: string; channelType: string };
      sent: Array<{ mobiles: string[]; content: string }>;
    };
    expect(result.nodemailer.accepted).toEqual(['13800138000']);
    expect(result.notifme.status).toBe('success');
    expect(result.novu.channelType).toBe('sms');
    expect(result.sent).toEqual([
      { mobiles: ['13800138000'], content: '【邮件】您的验证码是 1111' },
      { mobiles: ['13800138001'], content: '【通知】到货了' },
      { mobiles: ['13800138002'], content: '【通知】订单已发货' },
    ]);
  });

  it('npx @sms/emulator, npx @sms/cli send and npx @sms/webhook-relay run deliver one signed webhook', {
    timeout: 300_000,
  }, async () => {
    for (const name of ['@sms/emulator', '@sms/cli', '@sms/webhook-relay']) await installed(name);
    const dir = join(work, 'npx');

    await defaultEmulator();

    const secret = generateWebhookSecret();
    const events: SmsWebhookEvent[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        events.push(
          verifyWebhook({ headers: req.headers, body: Buffer.concat(chunks), secrets: secret }),
        );
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    writeFileSync(join(dir, 'relay.json'), relayConfig(`http://127.0.0.1:${port}/hooks`));
    const relay = start(
      'npx',
      ['--yes', '@sms/webhook-relay', 'run', '--config', 'relay.json'],
      dir,
      work,
      {
        SMS_PASSWORD: 'secret',
        WEBHOOK_SECRET: secret,
      },
    );
    running.push(relay.child);
    await relay.waitFor(/relay started/);

    const send = await run(
      'npx',
      [
        '--yes',
        '@sms/cli',
        'send',
        '--to',
        '13800138000',
        '--content',
        '【示例】验证码 1234',
        '--json',
      ],
      dir,
      work,
      { SMS_BASE_URL: EMULATOR_URL, SMS_USERID: '12', SMS_ACCOUNT: 'demo', SMS_PASSWORD: 'secret' },
    );
    expect(send.code, send.output).toBe(0);
    const { taskId } = JSON.parse(send.stdout) as { taskId: string };

    try {
      await expect.poll(() => events.length, { timeout: 30_000 }).toBeGreaterThan(0);
    } finally {
      stop(relay.child);
      receiver.close();
    }
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'sms.report',
      data: { taskId, mobile: '13800138000', status: 'delivered' },
    });
    await relay.exited;
  });

  it.each([
    ['core', 'node-app', /accepted \d+/],
    ['emulator', 'node-app', /<returnstatus>Success<\/returnstatus>/],
    ['nodemailer', 'node-app', /13800138000/],
    ['notify', 'node-app', /[\s\S]*/],
    ['relay', 'node-app', /relay started/],
    ['nest', 'nest-app', /[\s\S]*/],
  ])(
    'the first example of the %s README runs as written',
    {
      timeout: 180_000,
    },
    async (name, app, expected) => {
      await installed(app);
      await defaultEmulator();
      const dir = join(work, app);
      const block = firstExample(join(root, 'packages', name, 'README.md'));
      mkdirSync(join(dir, 'readme'), { recursive: true });
      let entry: string;
      if (block.lang === 'js') {
        // JavaScript as written: an ES module, run by Node itself.
        entry = `readme/${name}.mjs`;
        writeFileSync(join(dir, entry), block.code);
      } else {
        entry = await compileTypeScript(dir, name, block);
      }

      const env = { SMS_PASSWORD: 'secret', WEBHOOK_SECRET: generateWebhookSecret() };
      if (name === 'relay') {
        // It runs until stopped: started, then SIGTERM.
        writeFileSync(join(dir, 'relay.json'), relayConfig('http://127.0.0.1:9/hooks'));
        const relay = start('node', [entry], dir, work, env);
        running.push(relay.child);
        await relay.waitFor(expected);
        stop(relay.child);
        await relay.exited;
        return;
      }
      const result = await run('node', [entry], dir, work, env);
      expect(result.code, `${name} README line ${block.line}:\n${result.output}`).toBe(0);
      expect(result.stdout).toMatch(expected);
    },
  );
});
