// `provenance fetch <artifact>`: every signed envelope for an artifact, as
// DSSE JSON lines (the .intoto.jsonl layout) or as a Sigstore bundle.
import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { ReadApiClient } from '../read-client.js';
import { digestOf, parseDigest } from '../digest.js';
import { example, tokenOption, urlOption } from '../options.js';

interface FetchOptions {
  url: string;
  token?: string;
  output?: string;
  format: 'envelope' | 'bundle';
}

export function registerFetchCommand(program: Command): void {
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
    .addOption(
      new Option(
        '--format <format>',
        'envelope (DSSE, JSON lines) or bundle (Sigstore bundle v0.3, for cosign and sigstore-js)',
      )
        .choices(['envelope', 'bundle'])
        .default('envelope'),
    )
    .addHelpText(
      'after',
      example(
        '  provenance fetch dist/app.tar --format bundle --url https://provenance-api-abc123-uc.a.run.app   # writes dist/app.tar.sigstore.json',
      ),
    )
    .action(async (artifact: string, opts: FetchOptions) => {
      const digest = await digestOf(artifact);
      const client = new ReadApiClient(opts.url, opts.token);
      if (opts.format === 'bundle') {
        const lines = (await client.bundlesText(digest)).split('\n').filter(Boolean);
        const out = opts.output ?? (parseDigest(artifact) ? undefined : `${artifact}.sigstore.json`);
        if (out) writeFileSync(out, `${lines[0]}\n`);
        else process.stdout.write(`${lines[0]}\n`);
        process.stderr.write(
          `${lines.length} bundle(s) for sha256:${digest}${out ? `; the first written to ${out}` : ''}\n`,
        );
        return;
      }
      const { ndjson, envelopes } = await client.provenanceForDigest(digest);
      if (opts.output) writeFileSync(opts.output, ndjson);
      else process.stdout.write(ndjson);
      process.stderr.write(
        `${envelopes.length} envelope(s) for sha256:${digest}${opts.output ? ` written to ${opts.output}` : ''}\n`,
      );
    });
}
