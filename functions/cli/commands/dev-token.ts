// `provenance dev-token`: an ID token from the local dev issuer, which a local
// `npm start` accepts. Never accepted by a deployed service.
import { type Command, Option } from 'commander';
import { DevIssuer } from '../../adapters/dev-issuer.js';
import { DEV_DEFAULT_EMAIL } from '../../domain/dev-identity.js';
import { example, parseIntegerIn } from '../options.js';

export function registerDevTokenCommand(program: Command): void {
  program
    .command('dev-token')
    .description('print an ID token from the local dev issuer (accepted by `npm start`)')
    .option('--email <email>', 'identity to put in the token (must be on REPORTER_ALLOWLIST)', DEV_DEFAULT_EMAIL)
    .option(
      '--audience <url>',
      'audience claim: the service URL',
      process.env.AUDIENCE || `http://localhost:${process.env.PORT || 8080}`,
    )
    .option('--dir <dir>', 'where the dev issuer key lives', process.env.DEV_ISSUER_DIR || '.dev')
    .addOption(
      new Option('--lifetime <seconds>', 'token lifetime in seconds (at most 3600)')
        .argParser(parseIntegerIn(1, 3600))
        .default(3600),
    )
    .addHelpText(
      'after',
      example(
        '  curl -H "authorization: Bearer $(provenance dev-token)" -H "x-task-id: demo-1" -H "content-type: application/json" \\\n    -d \'{"taskStage": "STARTED", "recipe": "make", "pid": "1"}\' http://localhost:8080/provenance.snooperpb.SelfReport/ReportTaskStage',
      ),
    )
    .action((opts: { email: string; audience: string; dir: string; lifetime: number }) => {
      process.stdout.write(
        `${DevIssuer.fromDirectory(opts.dir).mint({ email: opts.email, audience: opts.audience, lifetimeSeconds: opts.lifetime })}\n`,
      );
    });
}
