import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Nodemailer 10 ships its own types (what tsconfig.json checks against); apps on older
// Nodemailer use @types/nodemailer. Compile a typical app file against each @types major.
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const fixture = join(here, '__types_fixture__.ts');
const source = `
import nodemailer from 'nodemailer';
import { SmsTransport, smsTransport, type SmsSentMessageInfo } from './index.js';

const transporter = nodemailer.createTransport(
  new SmsTransport({ baseUrl: 'http://127.0.0.1:1', account: 'a', password: 'p', signature: 's' }),
);
nodemailer.createTransport(smsTransport({ baseUrl: 'http://127.0.0.1:1', account: 'a', password: 'p' }));
// The generic overload checks the object against @types' Transport<T> interface.
nodemailer.createTransport<SmsSentMessageInfo>(smsTransport({ baseUrl: 'http://127.0.0.1:1', account: 'a', password: 'p' }));

export async function run(): Promise<string> {
  const info = (await transporter.sendMail({ to: '13800138000', text: 'hi' })) as SmsSentMessageInfo;
  transporter.sendMail({ to: '13800138000', text: 'hi' }, (err, sent) => console.log(err, sent));
  const ok: true = await transporter.verify();
  transporter.verify((err, success) => console.log(err, success));
  transporter.close();
  return info.messageId + String(ok);
}
`;

function diagnosticsAgainst(typesDir: string): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(here, '..', 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  if (!config) throw new Error('tsconfig.json could not be read');
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    paths: { nodemailer: [join(typesDir, 'index.d.ts')] },
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === fixture
      ? ts.createSourceFile(name, source, language)
      : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fixture || fileExists(name);
  const program = ts.createProgram({ rootNames: [fixture], options, host });
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(fixture))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('types with @types/nodemailer', () => {
  it.each([
    ['@types/nodemailer (current)', '@types/nodemailer/package.json'],
    ['@types/nodemailer 6', 'types-nodemailer-6/package.json'],
  ])('a typical app compiles against %s', (_name, manifest) => {
    const typesDir = dirname(require.resolve(manifest));
    expect(diagnosticsAgainst(typesDir)).toEqual([]);
  });
});
