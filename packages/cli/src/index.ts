export { run, VERSION } from './run.js';
export type { CliClient, RunIO } from './context.js';
export { ExitCode, type ExitCodeValue } from './exit.js';
export type { ConfigFile } from './config.js';
export {
  parseCsv,
  parseCsvRows,
  readCsvRows,
  readRecipients,
  readRecipientsFrom,
  renderTemplate,
  templateFields,
} from './csv.js';
export type { CsvRow, ReadRecipientsOptions, Recipient, RecipientTable } from './csv.js';
export { planBatch } from './batch.js';
export type { BatchPlan, Chunk, ContentGroup } from './batch.js';
export { RESULT_COLUMNS, type ResultRow, type ResultStatus } from './results.js';
