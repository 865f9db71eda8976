// `provenance report git`: a git checkout, given (--repo, --commit) or read (--from-checkout).
import { type Command, Option } from 'commander';
import { gitBody } from '../../report/bodies.js';
import { readCheckout } from '../../git-checkout.js';
import { collectList, example, type StepOptions, withStepOptions } from '../../options.js';
import { stepContext } from '../../step-context.js';
import { UsageError } from '../../exit-codes.js';

interface GitOptions extends StepOptions {
  repo?: string;
  commit?: string;
  ref?: string[];
  fromCheckout?: string;
}

export function registerReportGitCommand(report: Command): void {
  withStepOptions(report.command('git'))
    .description('report a git checkout: --repo and --commit, or --from-checkout <dir>')
    .option('--repo <url>', 'repository URL (no credentials)')
    .option('--commit <sha>', 'full commit id')
    .option('--ref <ref>', 'a full ref containing the commit, e.g. refs/heads/main (repeatable)', collectList)
    .addOption(
      new Option(
        '--from-checkout <dir>',
        'read repo, HEAD commit and the refs containing it from this checkout',
      ).conflicts(['repo', 'commit']),
    )
    .addHelpText(
      'after',
      example(
        '  provenance report git --from-checkout /workspace\n  provenance report git --repo https://github.com/example/app --commit $COMMIT_SHA --ref refs/heads/main',
      ),
    )
    .action(async (o: GitOptions) => {
      if (o.fromCheckout !== undefined) {
        const c = await readCheckout(o.fromCheckout);
        await stepContext(o).reporter.report(
          'ReportGit',
          gitBody(c.repo, c.commit, [...new Set([...c.refs, ...(o.ref ?? [])])]),
        );
        return;
      }
      if (o.repo === undefined || o.commit === undefined)
        throw new UsageError('give --from-checkout <dir>, or --repo and --commit');
      await stepContext(o).reporter.report('ReportGit', gitBody(o.repo, o.commit, o.ref ?? []));
    });
}
