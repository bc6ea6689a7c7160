import { parseArgs } from 'node:util';
import { generateWebhookSecret } from '@sms/core';
import { ENV_PREFIX } from './config/env.js';
import { loadConfig, loadStoreConfig, loadTargetNames } from './config/load.js';
import { type RelayConfig, configWarnings } from './config/schema.js';
import { secretsOf } from './config/secrets.js';
import { RelayConfigError } from './shared/config-error.js';
import { jsonLogger } from './shared/logger.js';
import { createRelay } from './relay.js';
import { VERSION } from './shared/version.js';
import { messageCommand } from './gateway/cli.js';
import { describeStore, openStore } from './store/open.js';

const USAGE = `sms-relay ${VERSION}: SMS delivery reports and replies as signed webhooks

Usage:
  sms-relay run     [--config relay.json]                 poll, store and deliver until SIGTERM
  sms-relay status  [--config relay.json] [--json]        queue depth, dead letters, disabled targets
  sms-relay dead    [--config relay.json] [--limit 50] [--json]   list dead-lettered deliveries
  sms-relay replay  [--config relay.json] [--id msg_...] [--target name]   re-queue dead deliveries
  sms-relay enable  [--config relay.json] --target name   re-enable a target disabled by a 410
  sms-relay message show|resend|fail --id sms_... [--json]   a gateway message; resend or fail an unknown one
  sms-relay config check [--config relay.json] [--json]   validate the config without starting
  sms-relay secret  [--json]                              print a new webhook secret (whsec_…) for a target

Every config key can also be set by an SMS_RELAY_* variable, which wins over the file:
  SMS_RELAY_STORE_SQLITE, SMS_RELAY_ACCOUNTS_0_PASSWORD, SMS_RELAY_TARGETS_0_SECRET, ...
`;

const COMMANDS = ['run', 'status', 'dead', 'replay', 'enable', 'message', 'secret'] as const;

/** A mistake on the command line: one line on stderr, exit 2 (as the `sms` CLI does). */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c', default: 'relay.json' },
        id: { type: 'string' },
        target: { type: 'string' },
        limit: { type: 'string', default: '50' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (error) {
    // parseArgs: "Unknown option '--verbose'. To specify a positional argument starting with a
    // '-', place it at the end of the command after '--', as in '-- \"--verbose\"" — the first
    // sentence is the useful part.
    const message = (error instanceof Error ? error.message : String(error)).split(/\.\s|\n/)[0];
    throw new UsageError(`${message} (see: sms-relay --help)`);
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parse(argv);
  const command = positionals[0];
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!command) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (command === 'config') return configCommand(positionals.slice(1), values);
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command "${command}" (commands: ${COMMANDS.join(', ')})`);
  }
  if (positionals.length > 1 && command !== 'message') {
    throw new UsageError(`unexpected argument "${positionals[1]}" (see: sms-relay --help)`);
  }
  if (command === 'secret') {
    // Needs no config: a new target's secret is made before relay.json names it.
    const secret = generateWebhookSecret();
    process.stdout.write(values.json ? `${JSON.stringify({ secret })}\n` : `${secret}\n`);
    return 0;
  }
  if (command === 'run') {
    const config = loadConfig(values.config);
    const logger = jsonLogger({ level: config.log.level, redact: secretsOf(config) });
    for (const warning of configWarnings(config)) {
      logger.warn('config warning', { field: warning.field, warning: warning.message });
    }
    const relay = createRelay(config, { logger });
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('signal received', { signal });
      relay.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error('shutdown failed', { error });
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    await relay.start();
    return -1;
  }

  // These commands inspect or repair a store `run` made: a missing file is a wrong path.
  const store = await openStore(loadStoreConfig(values.config), { mustExist: true });
  try {
    await store.init();
    const now = Date.now();
    switch (command) {
      case 'status': {
        const stats = await store.stats();
        if (values.json) process.stdout.write(`${JSON.stringify(stats)}\n`);
        else {
          process.stdout.write(
            `events      ${stats.events}\npending     ${stats.pending}\ndelivered   ${stats.delivered}\n` +
              `dead        ${stats.dead}\nquarantined ${stats.quarantined}\n` +
              `disabled    ${stats.disabledTargets.join(', ') || '-'}\n`,
          );
        }
        return 0;
      }
      case 'dead': {
        const limit = Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new RelayConfigError('--limit', 'must be a positive integer');
        const dead = await store.listDead({ limit });
        if (values.json) process.stdout.write(`${JSON.stringify(dead)}\n`);
        else if (dead.length === 0) process.stdout.write('no dead deliveries\n');
        else {
          for (const d of dead) {
            process.stdout.write(
              `${d.eventId}  ${d.target}  ${d.type}  ${d.account}  attempts=${d.attempts}  ${d.lastError ?? ''}  ${new Date(d.updatedAt).toISOString()}\n`,
            );
          }
        }
        return 0;
      }
      case 'replay': {
        const count = await store.replay({ eventId: values.id, target: values.target, now });
        process.stdout.write(`${count} ${count === 1 ? 'delivery' : 'deliveries'} re-queued\n`);
        return values.id && count === 0 ? 1 : 0;
      }
      case 'enable': {
        const target = values.target;
        if (!target) throw new RelayConfigError('--target', 'is required');
        // A target named in the config, or one the store has disabled (perhaps since
        // removed from the config): anything else is a typo, not a no-op.
        const configured = loadTargetNames(values.config) ?? [];
        const { disabledTargets } = await store.stats();
        if (!configured.includes(target) && !disabledTargets.includes(target)) {
          const known = [...new Set([...configured, ...disabledTargets])];
          process.stderr.write(
            `sms-relay: unknown target "${target}": not in ${values.config} nor disabled in the store` +
              ` (known: ${known.join(', ') || 'none'})\n`,
          );
          return 2;
        }
        if (!disabledTargets.includes(target)) {
          process.stdout.write(`target ${target} was not disabled\n`);
          return 0;
        }
        await store.setTargetDisabled(target, false, now);
        process.stdout.write(`target ${target} enabled\n`);
        return 0;
      }
      case 'message':
        return await messageCommand(
          store,
          positionals.slice(1),
          values,
          {
            stdout: (text) => process.stdout.write(text),
            stderr: (text) => process.stderr.write(text),
          },
          // JSON lines on stderr, as `run` logs (LOG_LEVEL overrides the level).
          jsonLogger({}),
        );
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } finally {
    await store.close();
  }
}

/** A URL for a summary: scheme, host and path; never credentials or a query (it may hold a token). */
function safeUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** What `config check` prints: what the relay would run with, and never a secret. */
function summary(path: string, config: RelayConfig, fromEnv: string[]): string {
  const lines = [`${path}: valid`];
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(9)} ${text}`);
  row(
    'store',
    `${'sqlite' in config.store ? 'sqlite' : 'postgres'} ${describeStore(config.store)}`,
  );
  row('journal', `${config.journal.dir}${config.journal.fsync ? '' : ' (no fsync)'}`);
  for (const a of config.accounts) {
    const pulls = [a.reports && 'reports', a.replies && 'replies'].filter(Boolean).join('+');
    row(
      'account',
      `${a.name} → ${safeUrl(a.baseUrl)} (${a.charset}, ${a.auth}, ${pulls || 'nothing'} every ${a.pollIntervalMs} ms)`,
    );
  }
  for (const t of config.targets) {
    row(
      'target',
      `${t.name} → ${safeUrl(t.url)} (${t.events.join(', ')} of ${t.accounts.join(', ')}; ` +
        `${t.secrets.length} ${t.secrets.length === 1 ? 'secret' : 'secrets'})`,
    );
  }
  row('http', config.http ? `${config.http.host}:${config.http.port}` : 'off');
  if (fromEnv.length) row('from env', fromEnv.join(', '));
  return `${lines.join('\n')}\n`;
}

/** `sms-relay config check`: validates relay.json and the SMS_RELAY_* variables without starting. */
function configCommand(args: string[], values: { config: string; json: boolean }): number {
  if (args[0] !== 'check') {
    throw new UsageError(
      args[0] === undefined
        ? 'config needs a subcommand: config check'
        : `unknown config subcommand "${args[0]}" (config check)`,
    );
  }
  if (args.length > 1) {
    throw new UsageError(`unexpected argument "${args[1]}" (see: sms-relay --help)`);
  }
  let config: RelayConfig;
  try {
    config = loadConfig(values.config);
  } catch (error) {
    if (!(error instanceof RelayConfigError) || !values.json) throw error;
    process.stdout.write(`${JSON.stringify({ valid: false, issues: error.issues })}\n`);
    return 2;
  }
  const fromEnv = Object.keys(process.env)
    .filter((name) => name.startsWith(ENV_PREFIX))
    .sort();
  const warnings = configWarnings(config);
  for (const warning of warnings) {
    if (!values.json)
      process.stderr.write(`sms-relay: warning: config ${warning.field} ${warning.message}\n`);
  }
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        valid: true,
        accounts: config.accounts.map((a) => a.name),
        targets: config.targets.map((t) => t.name),
        fromEnv,
        warnings,
      })}\n`,
    );
  } else process.stdout.write(summary(values.config, config, fromEnv));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // A config error lists every problem, one per line.
    for (const line of message.split('\n')) process.stderr.write(`sms-relay: ${line}\n`);
    process.exitCode = error instanceof RelayConfigError || error instanceof UsageError ? 2 : 1;
  },
);
