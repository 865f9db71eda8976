// `provenance collect`: report every artifact listed in the step-outputs
// folder (see ../collect.ts for the convention and what is refused).
import type { Command } from 'commander';
import type { Reporter } from '../report/reporter.js';
import { collectOutputs, DEFAULT_OUTPUTS_DIR } from '../collect.js';
import { example, type StepOptions, withStepOptions } from '../options.js';
import { sendBatch, stepContext } from '../step-context.js';
import { EXIT } from '../exit-codes.js';

export function registerCollectCommand(program: Command): void {
  withStepOptions(program.command('collect'))
    .description('report every artifact listed in the step-outputs folder (JSON lines: image/gcs/cipd + digest)')
    .option('--dir <dir>', `the outputs folder (default: $BUILDER_OUTPUT, else ${DEFAULT_OUTPUTS_DIR})`)
    .addHelpText(
      'after',
      example(
        '  echo \'{"image": "us-docker.pkg.dev/my-project/apps/app:1.2", "digest": "sha256:..."}\' >> $BUILDER_OUTPUT/images.jsonl\n  provenance collect',
      ),
    )
    .action(async (o: StepOptions & { dir?: string }) => {
      process.exitCode = await collectAndReport(
        stepContext(o).reporter,
        o.dir ?? process.env.BUILDER_OUTPUT ?? DEFAULT_OUTPUTS_DIR,
      );
    });
}

/** Reads the folder and reports what it lists; the exit code (also `run --collect`'s). */
export async function collectAndReport(reporter: Reporter, dir: string): Promise<number> {
  const found = collectOutputs(dir);
  if ('missing' in found) {
    process.stderr.write(`collect: no outputs folder at ${dir}: nothing to report\n`);
    return EXIT.ok;
  }
  // An entry that cannot be read fails the command, and hides nothing: the files beside it are reported.
  for (const u of found.unreadable) process.stderr.write(`${u}\n`);
  const n = found.unreadable.length;
  const unreadable = n ? `; ${n} entr${n === 1 ? 'y' : 'ies'} of ${dir} could not be read` : '';
  if (found.problems.length) {
    for (const p of found.problems) process.stderr.write(`${p}\n`);
    process.stderr.write(
      `collect: ${found.problems.length} malformed line(s) in ${dir}${unreadable}: nothing was reported\n`,
    );
    return EXIT.refused;
  }
  if (found.items.length === 0) {
    process.stderr.write(
      `collect: ${dir} lists no artifacts (${found.files} file(s) read${unreadable}): nothing to report\n`,
    );
    return n ? EXIT.refused : EXIT.ok;
  }
  if (n) process.stderr.write(`collect: ${unreadable.slice(2)}; reporting the ${found.files} file(s) read\n`);
  const sent = await sendBatch(reporter, found.items, false, 'collect');
  return n ? EXIT.refused : sent;
}
