// `provenance report cipd`: a CIPD package instance the step installed.
import type { Command } from 'commander';
import { cipdBody } from '../../report/bodies.js';
import { collectList, example, type StepOptions, withStepOptions } from '../../options.js';
import { stepContext } from '../../step-context.js';

export function registerReportCipdCommand(report: Command): void {
  withStepOptions(report.command('cipd'))
    .description('report a CIPD package instance the step installed')
    .requiredOption('--package <name>', 'package name, e.g. infra/tools/go/linux-amd64')
    .requiredOption('--instance-id <iid>', 'instance id')
    .option('--tag <key:value>', 'a tag of the instance (repeatable)', collectList)
    .option('--ref <name>', 'a ref pointing at it (repeatable)', collectList)
    .addHelpText(
      'after',
      example(
        '  provenance report cipd --package infra/tools/go/linux-amd64 --instance-id "$IID" --tag version:1.22 --ref latest',
      ),
    )
    .action(async (o: StepOptions & { package: string; instanceId: string; tag?: string[]; ref?: string[] }) => {
      await stepContext(o).reporter.report('ReportCipd', cipdBody(o.package, o.instanceId, o.tag, o.ref));
    });
}
