// `provenance verify-vsa`: check a Verification Summary Attestation the way a
// deployer does before admitting an artifact (slsa-verifier verify-vsa's
// checks): the gate's signature, the artifact's digest, the verifier id, the
// resource URI, PASSED, and a minimum level. Exit 0 only if every check holds;
// each mismatch is one coded FAIL line (or --json).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { bundleToEnvelope } from '../../provenance/bundle.js';
import { envelopeEntries } from '../../verify/entries.js';
import { printable, safeJsonLine } from '../../verify/text.js';
import { verifyVsa, type VsaFailure, type VsaVerdict } from '../../verify/vsa-check.js';
import { parseDigest } from '../digest.js';
import { UsageError } from '../exit-codes.js';
import { collectList } from '../options.js';
import { pemKeys, readKeyFile } from '../trusted-keys.js';

interface VerifyVsaOptions {
  vsa: string;
  key: string;
  digest: string;
  resourceUri: string;
  verifierId: string;
  level?: string[];
  json?: boolean;
}

export function registerVerifyVsaCommand(program: Command): void {
  program
    .command('verify-vsa')
    .description("check a deploy gate's Verification Summary Attestation (VSA) before admitting an artifact")
    .requiredOption('--vsa <file>', 'the VSA: DSSE JSON lines (.intoto.jsonl) or a Sigstore bundle (.sigstore.json)')
    .requiredOption('--key <pem>', "the gate's public key (PEM)")
    .requiredOption('--digest <sha256>', "the artifact's digest, sha256:<hex>")
    .requiredOption('--resource-uri <uri>', 'the artifact as the VSA must name it (e.g. an image reference)')
    .requiredOption('--verifier-id <id>', 'the verifier the VSA must come from')
    .option('--level <level>', 'require this level, e.g. SLSA_BUILD_LEVEL_1 (repeatable: all of them)', collectList)
    .option('--json', 'print the verdict as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  provenance verify-vsa --vsa demo/app.vsa.intoto.jsonl --key demo/gate-key.pub.pem \\\n    --digest sha256:… --resource-uri gs://example-bucket/app.tar \\\n    --verifier-id https://gate.example.com/release --level SLSA_BUILD_LEVEL_1\n\nExit codes: 0 the VSA holds; 1 refused (one coded FAIL line per mismatch); 2 wrong usage.\n',
    )
    .action((opts: VerifyVsaOptions) => {
      const verdict = runVerifyVsa(opts);
      if (opts.json) process.stdout.write(`${safeJsonLine(verdict)}\n`);
      else if (verdict.ok)
        process.stdout.write(
          `verified VSA for sha256:${verdict.digest}: PASSED by ${printable(opts.verifierId)}${verdict.timeVerified ? ` at ${printable(verdict.timeVerified)}` : ''}; levels ${(verdict.verifiedLevels ?? []).map((l) => printable(l)).join(', ')}; signed by ${printable(verdict.verifiedKey)}\n`,
        );
      else process.stderr.write(verdict.failures.map((f) => `FAIL: [${f.code}] ${f.message}\n`).join(''));
      if (!verdict.ok) process.exitCode = 1;
    });
}

export function runVerifyVsa(opts: VerifyVsaOptions): VsaVerdict & { digest: string } {
  const digest = parseDigest(opts.digest);
  if (!digest) throw new UsageError(`--digest: "${printable(opts.digest)}" is not sha256:<64 hex characters>`);
  for (const l of opts.level ?? [])
    if (!/^[A-Z][A-Z0-9_]*$/.test(l))
      throw new UsageError(`--level: "${printable(l)}" is not a level (e.g. SLSA_BUILD_LEVEL_1)`);
  const keys = pemKeys(readKeyFile(opts.key, '--key'), `--key: ${opts.key}`);
  const expect = {
    expectedDigest: digest,
    expectedVerifierId: opts.verifierId,
    expectedResourceUri: opts.resourceUri,
    ...(opts.level?.length ? { expectedLevels: opts.level } : {}),
  };
  const candidates = vsaEnvelopes(readText(opts.vsa, '--vsa'), opts.vsa);
  if ('failure' in candidates) return { ok: false, digest, failures: [candidates.failure] };
  const verdicts = candidates.map((c) =>
    'failure' in c ? { ok: false, failures: [c.failure] } : verifyVsa(c.value, keys, expect),
  );
  const passed = verdicts.find((v) => v.ok);
  if (passed) return { ...passed, digest };
  return { ok: false, digest, failures: verdicts.flatMap((v) => v.failures) };
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The envelopes in a VSA file: a Sigstore bundle, or DSSE envelopes (JSON lines or one). */
function vsaEnvelopes(
  text: string,
  file: string,
): ({ value: unknown } | { failure: VsaFailure })[] | { failure: VsaFailure } {
  const malformed = (message: string): { failure: VsaFailure } => ({
    failure: { code: 'VSA_MALFORMED', message: `${printable(file)}: ${message}` },
  });
  const entries = envelopeEntries(text);
  if (entries.length === 0) return malformed('is empty');
  return entries.map((e) => {
    if (e.error !== undefined) return malformed(`${e.where} ${e.error}`);
    const mediaType = (e.value as { mediaType?: unknown } | null)?.mediaType;
    if (typeof mediaType !== 'string') return { value: e.value };
    try {
      return { value: bundleToEnvelope(e.value).envelope };
    } catch (err) {
      return malformed(printable((err as Error).message));
    }
  });
}
