import { type Command, Option } from 'commander';
import { isMethod, METHOD_NAMES } from '../../report/methods.js';
import type { BatchItem } from '../../report/reporter.js';
import { jsonObjectLines } from '../../json-lines.js';
import { readFlagFile, readStandardInput } from '../../flag-file.js';
import { example, parseIntegerIn, type StepOptions, withStepOptions } from '../../options.js';
import { sendBatch, stepContext } from '../../step-context.js';
import { UsageError } from '../../exit-codes.js';

/** JSON lines → batch items; a line that is not a report is an item with its error. */
export function batchItems(text: Uint8Array | string): BatchItem[] {
  return jsonObjectLines(text).map((l): BatchItem => {
    if ('error' in l) return l;
    const { method, ...body } = l.object;
    if (!isMethod(method)) return { line: l.line, error: `"method" must be one of ${METHOD_NAMES.join(', ')}` };
    return { line: l.line, method, body };
  });
}

export function registerReportBatchCommand(report: Command): void {
  withStepOptions(report.command('batch'))
    .description('send many reports from JSON lines: {"method": "ReportGit", ...the API\'s JSON body}')
    .argument('[source]', '"-": read standard input (the default)')
    .option('--file <file>', 'read this file; "-" or no --file: standard input')
    .option('--keep-going', 'send the valid lines even after a malformed one (the command still exits 1)')
    .addOption(
      new Option('--concurrency <n>', 'reports in flight at once (stage reports go one at a time, in order)')
        .argParser(parseIntegerIn(1, 64))
        .default(8),
    )
    .addHelpText(
      'after',
      example(
        '  cat > reports.jsonl <<EOF\n  {"method": "ReportGcs", "gcsReport": {"gcsUri": "gs://deps/a.tar", "digest": "sha256:9f86d0..."}}\n  {"method": "ReportTaskStage", "taskStage": "COMPILE"}\n  EOF\n  provenance report batch --file reports.jsonl',
      ),
    )
    .action(
      async (
        source: string | undefined,
        o: StepOptions & { file?: string; keepGoing?: boolean; concurrency: number },
      ) => {
        if (source !== undefined && source !== '-')
          throw new UsageError(`batch: unexpected "${source}": use --file <file>, or - for standard input`);
        if (source === '-' && o.file !== undefined && o.file !== '-')
          throw new UsageError('batch: give --file <file> or -, not both');
        const bytes =
          o.file === undefined || o.file === '-'
            ? await readStandardInput('--file')
            : readFlagFile(o.file, '--file', 'bytes');
        process.exitCode = await sendBatch(
          stepContext(o, o.concurrency).reporter,
          batchItems(bytes),
          o.keepGoing === true,
          'batch',
        );
      },
    );
}
