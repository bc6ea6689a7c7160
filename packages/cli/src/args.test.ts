import { describe, expect, it } from 'vitest';
import { COMMANDS, parseCommandLine } from './args.js';
import { CliError } from './exit.js';

function usage(argv: string[]): string {
  try {
    parseCommandLine(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    return (error as CliError).message;
  }
  throw new Error(`${argv.join(' ')} parsed without error`);
}

describe('flag parsing: one clear line, not parseArgs internals', () => {
  it.each(COMMANDS)('sms %s --password x points to SMS_PASSWORD / --password-stdin', (command) => {
    for (const argv of [
      [command, '--password', 'Top Secret&99'],
      [command, '--password=Top Secret&99'],
      [command, '--json', '--PASSWORD', 'Top Secret&99'],
    ]) {
      const message = usage(argv);
      expect(message).toContain('SMS_PASSWORD');
      expect(message).toContain('--password-stdin');
      expect(message).not.toContain('positional argument');
      expect(message).not.toContain('Top Secret');
      expect(message).not.toContain('\n');
    }
  });

  it.each(COMMANDS)('sms %s --bogus names the flag and the command', (command) => {
    const message = usage([command, '--bogus=Top Secret&99']);
    expect(message).toBe(`unknown option --bogus for sms ${command} (see: sms ${command} --help)`);
    expect(usage([command, '-x'])).toContain('unknown option -x');
  });

  it('a password flag before the command, and --new-password for passwd', () => {
    expect(usage(['--password', 'x', 'send'])).toContain('SMS_PASSWORD');
    expect(usage(['passwd', '--new-password', 'x'])).toContain('--new-password-stdin');
  });

  it('a missing value, a value on a boolean, a flag taken for a value', () => {
    expect(usage(['send', '--to'])).toBe('--to needs a value (see: sms send --help)');
    expect(usage(['balance', '--json=yes'])).toBe(
      '--json takes no value (see: sms balance --help)',
    );
    expect(usage(['send', '--to', '--content', 'x'])).toContain(
      '--to needs a value, got the option --content',
    );
  });

  it('a value that starts with a dash is still a value', () => {
    const parsed = parseCommandLine(['send', '--to', '13800138000', '--content', '-50% 今天【A】']);
    expect(parsed).toMatchObject({ kind: 'command', flags: { content: '-50% 今天【A】' } });
    expect(parseCommandLine(['check', '--', '-广告【A】'])).toMatchObject({
      positionals: ['-广告【A】'],
    });
  });
});
