// The `provenance` command's exit codes, one place (docs/cli.md: "Exit codes").
//   0  done; or, without --strict, the service stayed unreachable (a warning was printed)
//   1  refused: the service (or the CLI's own check) said the input or the caller is wrong,
//      or verify found no valid provenance
//   2  wrong usage: an unknown option, a missing argument, a file that cannot be read
//   3  --strict (or PROVENANCE_STRICT=1) and the service stayed unreachable
// `provenance run` exits with its command's code (128 + signal number for a signal).
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

/** An error the CLI reports as one line (no stack trace), with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Wrong usage (exit 2): a flag missing, malformed or naming a file that cannot be read. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}
