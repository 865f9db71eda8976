// What `provenance verify` adds for a deploy gate: --policy FILE (the policy
// and its keys from a committed file, instead of flags) and --vsa OUT (a
// signed Verification Summary Attestation of the verdict, PASSED or FAILED,
// for the next stage). The verdict itself is the engine's, as for the flags.
import { defaultServiceUrl } from './options.js';
import { type Command, Option } from 'commander';
import { sha256Hex } from '../domain/digest.js';
import { canonicalJson } from '../domain/report.js';
import { printable } from '../verify/text.js';
import type { ResourceDigest } from '../verify/vsa.js';
import type { TrustedKey } from '../verify/keys.js';
import { UsageError } from './exit-codes.js';
import type { LoadedPolicy } from './policy-load.js';
import type { PolicyFlags, PolicyRules, VerifyOptions, VerifyReport } from './verify-command.js';

export interface GateOptions {
  policy?: string;
  vsa?: string;
  vsaKey?: string;
  verifierId?: string;
  resourceUri?: string;
  policyUri?: string;
}

/** The URI a VSA names a policy given as flags by (its digest is of the policy's canonical JSON). */
export const FLAGS_POLICY_URI = 'urn:build-provenance:policy:verify-flags';

export function addGateOptions(cmd: Command): Command {
  return cmd
    .option('--policy <file>', 'apply a policy file (docs/gating.md): its keys and rules, instead of the policy flags')
    .option(
      '--vsa <file>',
      'write a signed Verification Summary Attestation of the verdict here (.intoto.jsonl) and as a Sigstore bundle beside it (.sigstore.json)',
    )
    .option(
      '--vsa-key <key>',
      "the gate's signing key for --vsa: a PEM private key file (EC P-256) or gcpkms://projects/…/cryptoKeyVersions/N",
    )
    .option('--verifier-id <uri>', "the gate's identity in the VSA (verifier.id), which deployers pin")
    .option(
      '--resource-uri <uri>',
      'the artifact as the VSA names it (resourceUri), e.g. gs://bucket/app.tar or an image reference',
    )
    .addOption(new Option('--policy-uri <uri>', "the policy's URI in the VSA (default: file:<--policy path>)"))
    .addHelpText(
      'after',
      `
Example (a deploy gate: a committed policy file, and a signed VSA of the verdict for the next stage; docs/gating.md):
  provenance verify --policy deploy/policy.yaml --digest sha256:… --url https://provenance-api-abc123-uc.a.run.app \\
    --vsa app.vsa.intoto.jsonl --vsa-key gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/gate/cryptoKeyVersions/1 \\
    --verifier-id https://gate.example.com/release --resource-uri us-docker.pkg.dev/p/release/app@sha256:…
With --policy, the policy flags and --key/--keys are wrong usage (the file states the whole policy; exit 2).
A verdict writes its VSA, PASSED (exit 0) or FAILED (exit 1).
`,
    );
}

/** The policy flags a policy file replaces: given together, the gate would have two sources of truth. */
const POLICY_FLAGS: (keyof PolicyFlags)[] = [
  'builderId',
  'reporter',
  'sourceUri',
  'sourceRef',
  'configSourceUri',
  'configSourceEntryPoint',
  'refuseFinding',
  'maxAge',
  'subjectPattern',
];
const flagName = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export interface PreparedGate {
  /** The policy file's rules (undefined: the flags'). */
  rules?: PolicyRules;
  /** The policy file's keys (undefined: --key/--keys/--url's). */
  trusted?: { keys: TrustedKey[]; keySet: boolean };
  loaded?: LoadedPolicy;
}

/** Usage checks, then the policy file (if any) read and its keys loaded. Wrong usage throws (exit 2). */
export async function prepareGate(opts: VerifyOptions & GateOptions): Promise<PreparedGate> {
  if (opts.vsa !== undefined) {
    const missing = (['vsaKey', 'verifierId', 'resourceUri'] as const).filter((k) => !opts[k]);
    if (missing.length)
      throw new UsageError(
        `--vsa needs ${missing.map(flagName).join(', ')} (the gate's key, its identity, and the artifact's name)`,
      );
    for (const k of ['verifierId', 'resourceUri', 'policyUri'] as const) {
      const v = opts[k];
      // biome-ignore lint/suspicious/noControlCharactersInRegex: a URI holds no spaces or control characters
      if (v !== undefined && (v === '' || /[\s\u0000-\u001f\u007f]/.test(v)))
        throw new UsageError(`${flagName(k)}: "${printable(v)}" is not a URI`);
    }
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(opts.verifierId ?? ''))
      throw new UsageError(
        `--verifier-id: "${printable(opts.verifierId)}" is not a URI (e.g. https://gate.example.com/release)`,
      );
  } else {
    for (const k of ['vsaKey', 'verifierId', 'resourceUri', 'policyUri'] as const)
      if (opts[k] !== undefined) throw new UsageError(`${flagName(k)} is for --vsa: give --vsa <file> too`);
  }
  if (opts.policy === undefined) return {};
  const mixed = POLICY_FLAGS.filter((k) => {
    const v = opts[k];
    return Array.isArray(v) ? v.length > 0 : v !== undefined;
  });
  if (mixed.length)
    throw new UsageError(
      `--policy states the whole policy: drop ${mixed.map(flagName).join(', ')}, or put ${mixed.length > 1 ? 'them' : 'it'} in ${opts.policy}`,
    );
  if (opts.key !== undefined || opts.keys !== undefined)
    throw new UsageError(
      `--policy names its own keys (its keys field): drop ${opts.key !== undefined ? '--key' : '--keys'}`,
    );
  // Loaded on use: the YAML parser is not on every command's start-up path (build steps run this CLI often).
  const { policyKeys, readPolicy } = await import('./policy-load.js');
  const loaded = readPolicy(opts.policy);
  return { rules: loaded.file.policy, trusted: await policyKeys(loaded), loaded };
}

/**
 * A failing report, with lines that point into the policy file where its
 * fields decided: the keys (no key of the policy signed the envelope) and the
 * subject patterns (no pattern covers the subject).
 */
export function pointIntoPolicy(report: VerifyReport, gate: PreparedGate): VerifyReport {
  const loaded = gate.loaded;
  if (report.ok || !loaded) return report;
  const codes = new Set(report.verdicts.flatMap((v) => v.verdict.failures.map((f) => f.code)));
  const at = (field: string) => {
    const p = loaded.file.positions[field];
    return p ? `${loaded.path}:${p.line}:${p.col}` : loaded.path;
  };
  const extra: string[] = [];
  if (codes.has('SIGNATURE_INVALID') || codes.has('NO_TRUSTED_KEY'))
    extra.push(
      `${at('keys')}: keys: no key of the policy (${(gate.trusted?.keys ?? []).map((k) => printable(k.name)).join(', ')}) signed the envelope${report.verdicts.length > 1 ? 's' : ''}`,
    );
  if (codes.has('SUBJECT_NAME_NOT_COVERED'))
    extra.push(
      `${at('subjects')}: subjects: no pattern (${(loaded.file.policy.subjectPatterns ?? []).map((p) => `"${printable(p)}"`).join(', ')}) covers the artifact's subject name`,
    );
  return { ...report, lines: [...report.lines, ...extra] };
}

/** Signs and writes the VSA of this verdict; returns the line saying where it went. */
export async function writeGateVsa(
  opts: VerifyOptions & GateOptions,
  gate: PreparedGate,
  report: VerifyReport,
  rules: PolicyRules,
  now: Date,
  version: string,
): Promise<string> {
  if (opts.vsa === undefined || !opts.vsaKey || !opts.verifierId || !opts.resourceUri)
    throw new UsageError('--vsa: usage');
  // A resource URI that names a digest (image@sha256:…) must name this artifact's: a VSA never vouches for another.
  const named = /sha256:([0-9a-f]{64})/i.exec(opts.resourceUri)?.[1]?.toLowerCase();
  if (named !== undefined && named !== report.digest)
    throw new UsageError(
      `--resource-uri names sha256:${named}, but the artifact verified is sha256:${report.digest}: no VSA written`,
    );
  const [{ signVsa, vsaStatement }, { vsaSigner }, { writeVsa }] = await Promise.all([
    import('../verify/vsa.js'),
    import('./vsa-key.js'),
    import('./vsa-output.js'),
  ]);
  const policy = gate.loaded
    ? { uri: opts.policyUri ?? `file:${gate.loaded.path}`, sha256: gate.loaded.sha256 }
    : { uri: opts.policyUri ?? FLAGS_POLICY_URI, sha256: sha256Hex(canonicalJson(rules)) };
  // PASSED rests on the envelopes that passed; FAILED on every one checked.
  const used = report.verdicts.filter((v) => !report.ok || v.verdict.ok);
  const source = opts.bundle ?? opts.provenance;
  const uri =
    source !== undefined
      ? `file:${source}`
      : `${(opts.url ?? defaultServiceUrl()).replace(/\/+$/, '')}/v1/artifacts/sha256:${report.digest}/provenance`;
  const inputAttestations: ResourceDigest[] = used.map((v) => ({ uri, digest: { sha256: v.verdict.envelopeSha256 } }));
  const statement = vsaStatement({
    verifierId: opts.verifierId,
    verifierVersion: { 'build-provenance': version },
    timeVerified: now,
    resourceUri: opts.resourceUri,
    digest: report.digest,
    policy,
    inputAttestations,
    passed: report.ok,
  });
  const key = await vsaSigner(opts.vsaKey);
  try {
    const envelope = await signVsa(statement, key.signer);
    const out = writeVsa(opts.vsa, envelope);
    return `VSA (${statement.predicate.verificationResult}) written to ${out.jsonl} and ${out.bundle}`;
  } finally {
    await key.close();
  }
}
