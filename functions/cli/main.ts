#!/usr/bin/env node
// The `provenance` command. dev-token: a token the local server accepts.
import { Command } from 'commander';
import { DevIssuer, DEV_DEFAULT_EMAIL } from '../adapters/dev-issuer.js';

const program = new Command('provenance').description('build provenance: report from build steps, fetch and verify for releases');

program
  .command('dev-token')
  .description('print an ID token from the local dev issuer (accepted by `npm start`)')
  .option('--email <email>', 'identity to put in the token (must be on REPORTER_ALLOWLIST)', DEV_DEFAULT_EMAIL)
  .option('--audience <url>', 'audience claim: the service URL', process.env.AUDIENCE || `http://localhost:${process.env.PORT || 8080}`)
  .option('--dir <dir>', 'where the dev issuer key lives', process.env.DEV_ISSUER_DIR || '.dev')
  .option('--lifetime <seconds>', 'token lifetime in seconds (at most 3600)', '3600')
  .action((opts: { email: string; audience: string; dir: string; lifetime: string }) => {
    const lifetime = Number(opts.lifetime);
    if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 3600) program.error('--lifetime: expected 1 to 3600 seconds');
    process.stdout.write(`${DevIssuer.fromDirectory(opts.dir).mint({ email: opts.email, audience: opts.audience, lifetimeSeconds: lifetime })}\n`);
  });

program.parseAsync(process.argv).catch((err) => {
  console.error(`provenance: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
