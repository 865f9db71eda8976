#!/usr/bin/env node
// The `provenance` command: the program, its global help and exit codes, and
// its commands in the order --help lists them, one module per command under
// commands/. For build steps: report, collect, run. For release tooling:
// fetch, keys, verify. For operators: redrive. For local runs: dev-token.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ReadApiError } from './read-client.js';
import { CliError } from './exit-codes.js';
import { registerReportCommand } from './commands/report.js';
import { registerCollectCommand } from './commands/collect.js';
import { registerRunCommand } from './commands/run.js';
import { registerFetchCommand } from './commands/fetch.js';
import { registerKeysCommand } from './commands/keys.js';
import { registerRedriveCommand } from './commands/redrive.js';
import { registerDevTokenCommand } from './commands/dev-token.js';
import { registerVerifyCommand } from './commands/verify.js';
import { registerPolicyCommand } from './commands/policy.js';
import { registerVerifyVsaCommand } from './commands/verify-vsa.js';

export const program = new Command('provenance')
  .description(
    'build provenance: report from build steps; fetch and verify signed SLSA provenance; dev tokens for local runs',
  )
  .version(version(), '-V, --version', 'print the version')
  .addHelpText(
    'after',
    `\nExit codes: 0 done (or the service was unreachable and --strict was not given: a warning is printed);\n1 refused (bad input, not allowed, or no valid provenance); 2 wrong usage; 3 unreachable with --strict.\n\`provenance run\` exits with its command's code.`,
  );
// Wrong usage exits 2, like every other refusal to run; 1 means "no valid provenance".
program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

registerReportCommand(program);
registerCollectCommand(program);
registerRunCommand(program);
registerFetchCommand(program);
registerKeysCommand(program);

registerVerifyCommand(program);
registerVerifyVsaCommand(program);
registerPolicyCommand(program);

registerRedriveCommand(program);
registerDevTokenCommand(program);

/** Parses the command line and runs the command (bin/provenance.js, and the bundle as its own main). */
export function main(): void {
  program.parseAsync(process.argv).catch((err) => {
    console.error(`provenance: ${err instanceof Error ? err.message : err}`);
    // 1: refused, or there is no (valid) provenance; 2: the command was used wrongly or could not run.
    process.exit(err instanceof CliError ? err.exitCode : err instanceof ReadApiError && err.status === 404 ? 1 : 2);
  });
}

// Imported for its parser (test/unit/cloudbuild.test.ts), it runs nothing.
if (require.main === module) main();

function version(): string {
  if (process.env.PROVENANCE_CLI_VERSION) return process.env.PROVENANCE_CLI_VERSION; // set at bundle time
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}
