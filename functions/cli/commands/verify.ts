// `provenance verify`'s command line: the flags, the help, and printing the
// report (text lines, or one JSON verdict per envelope with --json). The work
// is in ../verify-command.ts; the judging in functions/verify/.
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import { collectList, tokenOption } from '../options.js';
import { buildPolicyFromFlags, jsonLines, runVerify, type VerifyOptions } from '../verify-command.js';
import { addGateOptions, pointIntoPolicy, prepareGate, writeGateVsa, type GateOptions } from '../gate.js';

export function registerVerifyCommand(program: Command): void {
  addGateOptions(program.command('verify'))
    .description("verify an artifact's provenance with the public key alone; exit 0 only if every check holds")
    .option('--key <pem>', 'public key file (PEM; several keys allowed)')
    .option(
      '--keys <file>',
      "key set (GET /v1/keys JSON): the key is picked by the envelope's keyid; without --key/--keys, fetched from --url",
    )
    .option('--artifact <file>', 'the artifact (its sha256 is computed)')
    .option('--digest <sha256>', "the artifact's digest, sha256:<hex>")
    .option('--provenance <file>', 'envelopes to check (JSON lines or one envelope); default: fetch from --url')
    .option('--bundle <file>', 'a Sigstore bundle to check (.sigstore.json, as fetch --format bundle writes)')
    .option('--url <service>', 'fetch the envelopes from this service (env PROVENANCE_URL)')
    .addOption(tokenOption())
    .option('--builder-id <id>', 'require this builder id (repeatable: any of them)', collectList)
    .option('--reporter <email>', 'require that this identity reported the task (repeatable: any of them)', collectList)
    .option(
      '--source-uri <repo>',
      'require git dependencies from this repository (repeatable: each is required); with --source-ref, every checkout of it must be on one of the refs',
      collectList,
    )
    .option(
      '--source-ref <ref>',
      'full ref the --source-uri checkouts must be on (repeatable: any of them)',
      collectList,
    )
    .option(
      '--config-source-uri <uri>',
      'require the build configuration from this repository (repeatable: any of them)',
      collectList,
    )
    .option('--config-source-entry-point <path>', 'require this configuration entry point (with --config-source-uri)')
    .option(
      '--refuse-finding <code>',
      'fail if the provenance has this finding, e.g. FETCH_AFTER_COMPILE (repeatable)',
      collectList,
    )
    .option('--max-age <duration>', 'fail if the build finished longer ago than this: seconds, or 15m, 12h, 30d')
    .option(
      '--subject-pattern <glob>',
      "require the artifact's subject name to match (* within a path segment, ** across; repeatable: any of them)",
      collectList,
    )
    .option(
      '--json',
      'print one JSON verdict per envelope on stdout (codes, fields, the verified key); exit codes unchanged',
    )
    .addHelpText(
      'after',
      `
Example (a deploy gate: the release pipeline's identity built app.tar from main; --builder-id is\nthe service's BUILDER_ID, as terraform output builder_id prints it):
  provenance verify --keys keys.json --artifact dist/app.tar --url https://provenance-api-abc123-uc.a.run.app \\
    --reporter builder@my-project.iam.gserviceaccount.com --builder-id https://report-abc123-uc.a.run.app \\
    --source-uri https://github.com/example/app --source-ref refs/heads/main

Exit codes: 0 an envelope passed every check; 1 none did (FAIL lines on stderr, or the --json verdicts);
2 wrong usage (e.g. --source-ref without --source-uri) or unreachable service. Failure codes: docs/verification.md.
`,
    )
    .action(async (opts: VerifyOptions & GateOptions) => {
      // --policy/--vsa (a deploy gate, docs/gating.md): the same engine, the policy and keys from a file, a signed verdict.
      const gate = await prepareGate(opts);
      const rules = gate.rules ?? buildPolicyFromFlags(opts);
      const now = new Date();
      const report = pointIntoPolicy(await runVerify(opts, rules, now, gate.trusted), gate);
      if (opts.vsa !== undefined)
        process.stderr.write(`${await writeGateVsa(opts, gate, report, rules, now, program.version() ?? 'unknown')}\n`);
      if (opts.json) {
        const lines = jsonLines(report);
        process.stdout.write(lines.map((l) => `${l}\n`).join(''));
        // Failures that are not about an envelope (no provenance, an unreadable key set) have no verdict line.
        if (lines.length === 0) process.stderr.write(report.lines.map((l) => `FAIL: ${l}\n`).join(''));
      } else {
        (report.ok ? process.stdout : process.stderr).write(
          report.lines.map((l) => `${report.ok ? '' : 'FAIL: '}${l}\n`).join(''),
        );
        if (report.ok && report.notes?.length)
          process.stderr.write(report.notes.map((n) => `note: not counted: ${n}\n`).join(''));
      }
      if (!report.ok) process.exitCode = EXIT.refused;
    });
}
