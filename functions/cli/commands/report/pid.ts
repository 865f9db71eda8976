// `provenance report pid`: the heartbeat (the task's process is alive).
import type { Command } from 'commander';
import { pidBody } from '../../report/bodies.js';
import { example, type StepOptions, withStepOptions } from '../../options.js';
import { stepContext } from '../../step-context.js';

export function registerReportPidCommand(report: Command): void {
  withStepOptions(report.command('pid'))
    .description("heartbeat: the task's process is alive")
    .requiredOption('--pid <pid>', 'the process id')
    .option('--reporter <path>', 'the reporting executable', process.argv[1] ?? 'provenance')
    .addHelpText('after', example('  provenance report pid --pid $$'))
    .action(async (o: StepOptions & { pid: string; reporter: string }) => {
      await stepContext(o).reporter.report('ReportPID', pidBody(o.pid, o.reporter));
    });
}
