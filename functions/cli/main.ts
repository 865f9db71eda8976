#!/usr/bin/env node
// The `provenance` command. For release tooling: fetch, keys, verify. For
// local runs: dev-token, a token the local server accepts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { DevIssuer, DEV_DEFAULT_EMAIL } from '../adapters/dev-issuer.js';
import { ReadApiClient, ReadApiError } from './read-client.js';
import { digestOf, parseDigest } from './digest.js';
import { defaultUrl, runVerify, type VerifyOptions } from './verify-command.js';
import { collectList, registerStepCommands } from './step-commands.js';
import { CliError, UsageError } from './exit-codes.js';

export const program = new Command('provenance')
  .description(
    'build provenance: report from build steps; fetch and verify signed SLSA provenance; dev tokens for local runs',
  )
  .version(version(), '-V, --version', 'print the version')
  .addHelpText(
    'after',
    `\nExit codes: 0 done (or the service was unreachable and --strict was not given: a warning is printed);\n1 refused (bad input, not allowed, or no valid provenance); 2 wrong usage; 3 unreachable with --strict.\n\`provenance run\` exits with its command's code.`,
  );
// Wrong usage exits 2, like every other refusal to run; 1 means "no valid provenance".
program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
registerStepCommands(program);

const urlOption = () =>
  new Option('--url <service>', 'the provenance service (env PROVENANCE_URL)').default(defaultUrl());
const tokenOption = () =>
  new Option('--token <token>', 'OIDC ID token for services without public reads (env PROVENANCE_TOKEN)').default(
    process.env.PROVENANCE_TOKEN,
  );

program
  .command('fetch')
  .description('download every signed envelope for an artifact (JSON lines, the .intoto.jsonl layout)')
  .argument('<artifact>', 'sha256:<hex>, or a file to hash')
  .addOption(urlOption())
  .addOption(tokenOption())
  .option(
    '-o, --output <file>',
    'write the envelopes here instead of stdout (--format bundle, for a file: <file>.sigstore.json)',
  )
  .option(
    '--format <format>',
    'envelope (DSSE, JSON lines) or bundle (Sigstore bundle v0.3, for cosign and sigstore-js)',
    'envelope',
  )
  .addHelpText(
    'after',
    '\nExample:\n  provenance fetch dist/app.tar --format bundle --url https://provenance-api-abc123-uc.a.run.app   # writes dist/app.tar.sigstore.json\n',
  )
  .action(async (artifact: string, opts: { url: string; token?: string; output?: string; format: string }) => {
    const digest = await digestOf(artifact);
    if (opts.format !== 'envelope' && opts.format !== 'bundle')
      throw new UsageError(`--format: "${opts.format}" is not envelope or bundle`);
    if (opts.format === 'bundle') {
      const lines = (await new ReadApiClient(opts.url, opts.token).bundlesText(digest)).split('\n').filter(Boolean);
      const out = opts.output ?? (parseDigest(artifact) ? undefined : `${artifact}.sigstore.json`);
      if (out) writeFileSync(out, `${lines[0]}\n`);
      else process.stdout.write(`${lines[0]}\n`);
      process.stderr.write(
        `${lines.length} bundle(s) for sha256:${digest}${out ? `; the first written to ${out}` : ''}\n`,
      );
      return;
    }
    const { ndjson, envelopes } = await new ReadApiClient(opts.url, opts.token).provenanceForDigest(digest);
    if (opts.output) writeFileSync(opts.output, ndjson);
    else process.stdout.write(ndjson);
    process.stderr.write(
      `${envelopes.length} envelope(s) for sha256:${digest}${opts.output ? ` written to ${opts.output}` : ''}\n`,
    );
  });

program
  .command('keys')
  .description("print the service's public signing key(s) as PEM, for `verify --key`")
  .addOption(urlOption())
  .option('-o, --output <file>', 'write the PEM here instead of stdout')
  .action(async (opts: { url: string; output?: string }) => {
    const keys = await new ReadApiClient(opts.url).keys();
    const pem = keys.map((k) => `# ${k.keyId} (${k.algorithm})\n${k.pem.trim()}\n`).join('');
    if (opts.output) writeFileSync(opts.output, pem);
    else process.stdout.write(pem);
  });

program
  .command('verify')
  .description("verify an artifact's provenance with the public key alone; exit 0 only if every check holds")
  .option('--key <pem>', 'public key file (PEM; several keys allowed)')
  .option(
    '--keys <file>',
    "key set (GET /v1/keys JSON): the key is picked by the envelope's keyid; without --key/--keys, fetched from --url",
  )
  .option('--artifact <file>', 'the artifact (its sha256 is computed)')
  .option('--digest <sha256>', "the artifact's digest, sha256:<hex>")
  .option(
    '--provenance <file>',
    'envelopes to check (JSON lines or one envelope; - for standard input); default: fetch from --url',
  )
  .option(
    '--bundle <file>',
    'a Sigstore bundle to check (.sigstore.json, as fetch --format bundle writes; - for standard input)',
  )
  .option('--url <service>', 'fetch the envelopes from this service (env PROVENANCE_URL)')
  .addOption(tokenOption())
  .option('--builder-id <id>', 'require this builder id')
  .option('--reporter <email>', 'require that this identity reported the task (repeatable: any of them)', collectList)
  .option('--source-uri <uri>', 'require a git dependency from this repository')
  .option('--source-ref <ref>', 'require the source on this ref (repeatable: any of them)', collectList)
  .action(async (opts: VerifyOptions) => {
    const report = await runVerify(opts);
    (report.ok ? process.stdout : process.stderr).write(
      report.lines.map((l) => `${report.ok ? '' : 'FAIL: '}${l}\n`).join(''),
    );
    if (report.ok && report.notes?.length)
      process.stderr.write(report.notes.map((n) => `note: not counted: ${n}\n`).join(''));
    if (!report.ok) process.exitCode = 1;
  });

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
    '\nExample:\n  provenance redrive 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 --reporter builder@my-project.iam.gserviceaccount.com \\\n    --url https://provenance-api-abc123-uc.a.run.app --token "$(gcloud auth print-identity-token)"\n',
  )
  .action(async (taskId: string, opts: { reporter: string; subject?: string; url: string; token?: string }) => {
    const r = await new ReadApiClient(opts.url, opts.token).redrive(taskId, opts.reporter, opts.subject);
    process.stdout.write(
      `task ${taskId} sent back to assembly: ${r.from} -> ${r.to}${r.published ? '' : ' (UPLOAD_COMPLETE will be published by the next sweep)'}${r.previousReason ? `; it had failed: ${r.previousReason}` : ''}\n`,
    );
  });

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
  .option('--lifetime <seconds>', 'token lifetime in seconds (at most 3600)', '3600')
  .action((opts: { email: string; audience: string; dir: string; lifetime: string }) => {
    const lifetime = Number(opts.lifetime);
    if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 3600)
      program.error('--lifetime: expected 1 to 3600 seconds');
    process.stdout.write(
      `${DevIssuer.fromDirectory(opts.dir).mint({ email: opts.email, audience: opts.audience, lifetimeSeconds: lifetime })}\n`,
    );
  });

/** Parses the command line and runs the command (bin/provenance.js, and the bundle as its own main). */
export function main(): void {
  program.parseAsync(process.argv).catch((err) => {
    console.error(`provenance: ${err instanceof Error ? err.message : err}`);
    // 1: refused, or there is no (valid) provenance; 2: the command was used wrongly or could not run.
    process.exit(err instanceof CliError ? err.exitCode : err instanceof ReadApiError && err.status === 404 ? 1 : 2);
  });
}

// Imported for its parser (test/unit/cloudbuild.test.ts), it runs nothing.
if (require.main === module) main();

function version(): string {
  if (process.env.PROVENANCE_CLI_VERSION) return process.env.PROVENANCE_CLI_VERSION; // set at bundle time
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}
