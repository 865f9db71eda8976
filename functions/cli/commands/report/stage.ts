// `provenance report stage <STAGE>`: the stage the task is in (STARTED creates it).
import type { Command } from 'commander';
import { stageBody } from '../../report/bodies.js';
import { collectList, example, type StepOptions, withStepOptions } from '../../options.js';
import { stepContext } from '../../step-context.js';

interface StageOptions extends StepOptions {
  recipe?: string;
  pid?: string;
  configSourceUri?: string;
  configSourceDigest?: string[];
  configSourceEntryPoint?: string;
}

export function registerReportStageCommand(report: Command): void {
  withStepOptions(
    report.command('stage').argument('<stage>', 'STARTED, FETCH, COMPILE, UPLOAD, UPLOAD_COMPLETE, TEST or COMPLETE'),
  )
    .description('report the stage the task is in (STARTED needs --recipe and --pid)')
    .option('--recipe <recipe>', "the build's entry point (required with STARTED)")
    .option('--pid <pid>', "the task's process id (required with STARTED)")
    .option('--config-source-uri <uri>', 'where the build configuration came from (with STARTED)')
    .option('--config-source-digest <alg:hex>', 'its digest (repeatable)', collectList)
    .option('--config-source-entry-point <path>', 'the file within it')
    .addHelpText(
      'after',
      example(
        '  provenance report stage STARTED --recipe cloudbuild.yaml --pid $$ \\\n    --config-source-uri git+https://github.com/example/app --config-source-digest gitCommit:$COMMIT_SHA',
      ),
    )
    .action(async (stage: string, o: StageOptions) => {
      await stepContext(o).reporter.report('ReportTaskStage', stageBody(stage, o));
    });
}
