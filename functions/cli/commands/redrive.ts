// `provenance redrive <task-id>`: operators send a FAILED task back to assembly.
import type { Command } from 'commander';
import { ReadApiClient } from '../read-client.js';
import { example, tokenOption, urlOption } from '../options.js';

interface RedriveOptions {
  reporter: string;
  subject?: string;
  url: string;
  token?: string;
}

export function registerRedriveCommand(program: Command): void {
  program
    .command('redrive')
    .description(
      'operators: send a FAILED task back to assembly (needs an ID token of an identity on OPERATOR_ALLOWLIST)',
    )
    .argument('<task-id>', 'the task id (e.g. the Cloud Build BUILD_ID)')
    .requiredOption('--reporter <email>', 'the identity that reported the task')
    .option('--subject <subject>', "the reporting identity's subject, when its email names more than one")
    .addOption(urlOption())
    .addOption(tokenOption())
    .addHelpText(
      'after',
      example(
        '  provenance redrive 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 --reporter builder@my-project.iam.gserviceaccount.com \\\n    --url https://provenance-api-abc123-uc.a.run.app --token "$(gcloud auth print-identity-token)"',
      ),
    )
    .action(async (taskId: string, opts: RedriveOptions) => {
      const r = await new ReadApiClient(opts.url, opts.token).redrive(taskId, opts.reporter, opts.subject);
      process.stdout.write(
        `task ${taskId} sent back to assembly: ${r.from} -> ${r.to}${r.published ? '' : ' (UPLOAD_COMPLETE will be published by the next sweep)'}${r.previousReason ? `; it had failed: ${r.previousReason}` : ''}\n`,
      );
    });
}
