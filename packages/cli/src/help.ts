import type { CommandName } from './args.js';

const CONNECTION = `Connection (flags > environment > config file):
  --base-url <url>      platform address, e.g. http://127.0.0.1:8888   [SMS_BASE_URL]
  --userid <id>         enterprise id (may be empty)                  [SMS_USERID]
  --account <name>      account name                                  [SMS_ACCOUNT]
  --charset <utf-8|gbk> endpoint charset (sms.aspx or smsGBK.aspx)    [SMS_CHARSET]
  (password)            from SMS_PASSWORD, the config file, --password-stdin,
                        or a prompt without echo when stdin is a terminal
  --password-stdin      read the password from the first line of stdin
  --config <file>       JSON config (default: ./sms.config.json if present)
  --timeout <ms>        request timeout (default 15000)        [SMS_TIMEOUT]
  --json                machine-readable output on stdout
  -h, --help            help for a command`;

const EXIT_CODES = `Exit codes:
  0 ok   1 internal error, or --out/--results could not be written
  2 usage/validation   3 platform refused   4 network/timeout/HTTP/protocol
  5 unknown outcome (the send may have gone out: do not resend blindly)
  130 interrupted with Ctrl-C: a batch (see the results file) or a --watch`;

const TOP = `sms: send SMS and read reports from a Ruanwei-style platform (sms.aspx)

Usage: sms <command> [options]

Commands:
  send      send one message, or a batch from a CSV file
  balance   show the account balance
  check     ask the platform whether a text contains blocked words
  reports   fetch delivery reports (--watch to keep polling)
  replies   fetch replies (--watch to keep polling)
  passwd    change the account password

Run \`sms <command> --help\` for its options.

${CONNECTION}

${EXIT_CODES}
`;

const COMMAND_HELP: Record<CommandName, string> = {
  send: `Usage:
  sms send --to <mobiles> --content <text> [--at <time>] [--ext <digits>]
  sms send --csv <file> --content <template> [batch options]
  sms send --retry <results.csv> --content <template> --results <new.csv>

Options:
  --to <mobiles>          comma-separated numbers (+86, spaces, dashes and full-width ， accepted)
  --content <text>        the text, signature included: "【Brand】Your code is 1234"
                          with --csv: a template, {column} is filled from each row ({{ }} for braces)
  --at <time>             schedule: "YYYY-MM-DD HH:mm:ss" in Asia/Shanghai time
  --ext <digits>          extension sub-number (1-10 digits)
  --dry-run               count numbers, segments and points; send nothing

Batch options:
  --csv <file>            CSV with a header; numbers from the "mobile" column (or the first column)
  --mobile-column <name>  take numbers from this column instead
  --content-column <name> take each row's content (itself a template) from this column
  --chunk-size <n>        numbers per request (default 1000)
  --concurrency <n>       requests in flight at once (default 2)
  --results <file>        write a CSV per number: status (sent|failed|unknown|not_sent|invalid),
                          taskId or error code; written and fsync'd after every chunk
  --skip-invalid          skip invalid numbers (listed as "invalid" in the results) instead of stopping
  --retry <results.csv>   send again to the failed and not_sent numbers of an earlier --results
                          file, with their original CSV rows (unknown ones are left out)

Examples:
  sms send --to 13800138000 --content "【Brand】Your code is 1234"
  sms send --to 13800138000,13900139000 --content "【Brand】Sale tomorrow" --at "2027-06-01 09:00:00"
  sms send --csv customers.csv --content "【Brand】Hi {name}, your order {order} shipped" --results out.csv
  sms send --csv customers.csv --content "【Brand】Hello" --dry-run
  sms send --retry out.csv --content "【Brand】Hi {name}, your order {order} shipped" --results out-2.csv

${EXIT_CODES}
`,
  balance: `Usage: sms balance [--json]

Shows pay type (prepaid/postpaid), points left and the total sent.
`,
  check: `Usage: sms check "<content>" [--json]

Asks the platform whether the text contains blocked words, and shows its length,
segments and whether it carries a 【signature】. Nothing is sent.
Exit code 0 when clean, 3 when the platform would block it.
`,
  reports: `Usage: sms reports [--watch] [--out <file.jsonl>] [--interval <ms>] [--max <n>]

Fetches delivery reports. The platform hands each report out ONCE: whatever this command
prints is gone from the platform. Use --out to keep a copy (JSON lines, appended and fsync'd
before anything is printed). If --out cannot be written (disk full, …), the records are still
printed, an OUT_FILE error says they were NOT saved, and the command exits 1 (--watch stops).
Complete records of an answer that failed (cut off, malformed) are saved and printed too.

Options:
  --watch            keep polling until Ctrl-C
  --out <file>       append every report as one JSON line
  --interval <ms>    polling interval with --watch (default 5000)
  --max <n>          at most n reports per request (statusNum, default: the platform's 4000)
`,
  replies: `Usage: sms replies [--watch] [--out <file.jsonl>] [--interval <ms>]

Fetches replies (mobile-originated messages). The platform hands each reply out ONCE:
whatever this command prints is gone from the platform. Use --out to keep a copy; if it
cannot be written, the replies are still printed and the command exits 1 (see sms reports).

Options:
  --watch            keep polling until Ctrl-C
  --out <file>       append every reply as one JSON line
  --interval <ms>    polling interval with --watch (default 5000)
`,
  passwd: `Usage: sms passwd [--new-password-stdin]

Changes the account password. Prompts twice for the new password (no echo) on a
terminal, or reads it from the first line of stdin with --new-password-stdin.
Afterwards, update SMS_PASSWORD or your config file.
`,
};

export function helpText(command?: CommandName): string {
  if (!command) return TOP;
  return `${COMMAND_HELP[command]}\n${CONNECTION}\n`;
}
