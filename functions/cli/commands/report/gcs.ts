// `provenance report gcs`: a Cloud Storage object the step fetched.
import type { Command } from 'commander';
import { gcsBody } from '../../report/bodies.js';
import { example, type StepOptions, withStepOptions } from '../../options.js';
import { stepContext } from '../../step-context.js';

export function registerReportGcsCommand(report: Command): void {
  withStepOptions(report.command('gcs'))
    .description('report a Cloud Storage object the step fetched')
    .requiredOption('--uri <gs://bucket/object>', 'the object')
    .requiredOption('--digest <sha256>', 'its sha256 (hex, or sha256:<hex>)')
    .addHelpText(
      'after',
      example(
        '  provenance report gcs --uri gs://my-deps/lib-1.0.tar.gz --digest "sha256:$(sha256sum lib-1.0.tar.gz | cut -d\' \' -f1)"',
      ),
    )
    .action(async (o: StepOptions & { uri: string; digest: string }) => {
      await stepContext(o).reporter.report('ReportGcs', gcsBody(o.uri, o.digest));
    });
}
