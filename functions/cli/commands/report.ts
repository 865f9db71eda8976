// `provenance report <kind>`: one subcommand per SelfReport RPC, and `batch`
// for many at once. Each subcommand is its own module under report/.
import type { Command } from 'commander';
import { EXAMPLE_URL, example } from '../options.js';
import { registerReportStageCommand } from './report/stage.js';
import { registerReportGitCommand } from './report/git.js';
import { registerReportCipdCommand } from './report/cipd.js';
import { registerReportGcsCommand } from './report/gcs.js';
import { registerReportArtifactCommand } from './report/artifact.js';
import { registerReportPidCommand } from './report/pid.js';
import { registerReportBatchCommand } from './report/batch.js';

export function registerReportCommand(program: Command): void {
  const report = program
    .command('report')
    .description('build steps: report what this step fetched, built and where it is (one subcommand per RPC)')
    .addHelpText(
      'after',
      example(
        `  export PROVENANCE_URL=${EXAMPLE_URL} PROVENANCE_TASK_ID=$BUILD_ID\n  provenance report git --from-checkout .\n  provenance report artifact --file dist/app.tar --gcs gs://my-bucket/app.tar`,
      ),
    );
  registerReportStageCommand(report);
  registerReportGitCommand(report);
  registerReportCipdCommand(report);
  registerReportGcsCommand(report);
  registerReportArtifactCommand(report);
  registerReportPidCommand(report);
  registerReportBatchCommand(report);
}
