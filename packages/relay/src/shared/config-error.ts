/** One problem in a configuration: where, as the user wrote it (`targets[0].secret`), and what. */
export interface ConfigIssue {
  field: string;
  message: string;
}

/**
 * Thrown for an invalid configuration. `issues` lists every problem found at once; `field`
 * names the first (`targets[0].url`). Messages never repeat a value (it may be a secret).
 */
export class RelayConfigError extends Error {
  override readonly name = 'RelayConfigError';
  /** The first bad value's name. */
  readonly field: string;
  /** Every problem, in config order. */
  readonly issues: ConfigIssue[];
  constructor(
    field: string,
    message: string,
    options?: { cause?: unknown; issues?: ConfigIssue[] },
  ) {
    const issues = options?.issues?.length ? options.issues : [{ field, message }];
    super(
      issues.map((issue) => `[sms] [relay] config ${issue.field}: ${issue.message}`).join('\n'),
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.field = issues[0]!.field;
    this.issues = issues;
  }
}
