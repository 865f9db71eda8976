// `npm run bench:verify` (also the verify section of bench:assemble): what
// `provenance verify` costs per envelope, beside @sigstore/verify on the same
// envelopes (as bundles, the public key as the only trust material) in the
// same run, and what each part of the engine costs: the signature alone, the
// statement read, every policy check on its own. One core, ECDSA P-256.
// Prints figures; never passes or fails on time.
import { createPublicKey } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { LocalSigner } from '../functions/adapters/local-signer.js';
import { sha256Hex } from '../functions/domain/digest.js';
import type { Sha256Hex, StoredReport } from '../functions/domain/report.js';
import { envelopeToBundle } from '../functions/provenance/bundle.js';
import { signStatement, type Envelope } from '../functions/provenance/dsse.js';
import { assembleProvenance } from '../functions/provenance/statement.js';
import { POLICY_CHECKS, verifyEnvelope } from '../functions/verify/engine.js';
import { openEnvelope } from '../functions/verify/envelope.js';
import { parsePublicKeys } from '../functions/verify/keys.js';
import type { VerificationPolicy } from '../functions/verify/policy.js';
import { readStatement } from '../functions/verify/statement.js';
import { OWNER, storedReport, uploadedTask } from './assemble-shared.js';

const DIGEST = 'ab'.repeat(32);
const SLICE = 20;
const FINISHED = new Date(Date.UTC(2026, 0, 1, 0, 0, 9));

/** A statement as the assembler makes it: `deps` git dependencies, a config source, the findings byproduct. */
export function statementOf(deps: number) {
  const task = uploadedTask('bench', {
    stage: 'STARTED',
    recipe: 'r',
    pid: 1,
    configSource: {
      uri: 'git+https://github.com/example/dep-1',
      digest: { gitCommit: '1'.repeat(40) },
      entryPoint: 'cloudbuild.yaml',
    },
  });
  const reports: StoredReport[] = Array.from({ length: deps }, (_, i) => {
    const report = {
      kind: 'git' as const,
      repo: `https://github.com/example/dep-${i}`,
      commit: i.toString(16).padStart(40, '0'),
      refs: ['refs/heads/main'],
    };
    return storedReport(report);
  });
  const artifact = {
    kind: 'artifact' as const,
    sha256: DIGEST as Sha256Hex,
    location: { type: 'gcs' as const, uri: 'gs://out/app.tar' },
    sbomSubjects: [],
  };
  reports.push(storedReport(artifact, 2));
  return assembleProvenance(task, reports, { builderId: 'b' });
}

/** The deploy gate docs/security.md recommends: reporter, builder id, the source on main. */
const RECOMMENDED: VerificationPolicy = {
  expectedDigest: DIGEST,
  expectedBuilderIds: ['b'],
  expectedReporters: [OWNER.email],
  expectedSources: [{ uri: 'https://github.com/example/dep-1', refs: ['refs/heads/main'] }],
};

/** The recommended gate plus every other policy field, so every check runs. */
const GATE: VerificationPolicy = {
  expectedDigest: DIGEST,
  expectedBuilderIds: ['b'],
  expectedReporters: [OWNER.email],
  expectedSources: [{ uri: 'https://github.com/example/dep-1', refs: ['refs/heads/main'] }],
  expectedConfigSources: [{ uri: 'https://github.com/example/dep-1', entryPoint: 'cloudbuild.yaml' }],
  refusedFindings: ['FETCH_AFTER_COMPILE'],
  maxAgeSeconds: 3600,
  subjectPatterns: ['gs://out/**'],
};

/** Calls per second of f (each call handles `per` items), over ~`ms` of wall time. */
function rate(f: () => number, ms = 1000): number {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) n += f();
  return n / ((performance.now() - start) / 1000);
}

/**
 * µs per call of each variant, run in turn SLICE calls at a time for `ms` in all, so that on a
 * shared machine every variant sees the same load; `i` runs over 0..count-1.
 */
function interleaved(
  variants: Record<string, (i: number) => unknown>,
  count: number,
  ms: number,
): Record<string, number> {
  const spent = new Map(Object.keys(variants).map((k) => [k, { ms: 0, n: 0 }]));
  const end = performance.now() + ms;
  for (let offset = 0; performance.now() < end; offset = (offset + SLICE) % count) {
    for (const [name, run] of Object.entries(variants)) {
      const start = performance.now();
      for (let i = offset; i < offset + SLICE; i++) run(i % count);
      const s = spent.get(name) ?? { ms: 0, n: 0 };
      s.ms += performance.now() - start;
      s.n += SLICE;
      spent.set(name, s);
    }
  }
  return Object.fromEntries([...spent].map(([k, s]) => [k, (s.ms * 1000) / s.n]));
}

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

export async function verifyBench(): Promise<void> {
  const signer = LocalSigner.ephemeral();
  const { pem } = await signer.publicKey();
  const keys = parsePublicKeys(pem);
  const now = new Date(FINISHED.getTime() + 60_000);

  const envelopes: Envelope[] = [];
  for (let i = 0; i < 200; i++) envelopes.push(await signStatement(statementOf(20), signer));
  // As `provenance verify` has them: parsed, with the text as read (for envelopeSha256).
  const texts = envelopes.map((e) => JSON.stringify(e));
  const bundles = envelopes.map((e) => envelopeToBundle(e));
  const trust = toTrustMaterial(
    { mediaType: '', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] } as never,
    () => ({ publicKey: createPublicKey(pem), validFor: () => true }),
  );
  const sigstore = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  const digestOnly = { expectedDigest: DIGEST };
  for (const e of envelopes.slice(0, 1)) {
    const v = verifyEnvelope(e, keys, GATE, now);
    if (!v.ok) throw new Error(`the bench's gate does not pass: ${JSON.stringify(v.failures)}`);
  }

  // Interleaved (see interleaved): all five see the same load on a shared machine.
  const rates = interleaved(
    {
      sigstore: (i) => sigstore.verify(toSignedEntity(bundleFromJSON(bundles[i] as (typeof bundles)[number]))),
      signature: (i) => openEnvelope(envelopes[i], keys),
      digest: (i) => verifyEnvelope(envelopes[i], keys, digestOnly, now, texts[i]),
      recommended: (i) => verifyEnvelope(envelopes[i], keys, RECOMMENDED, now, texts[i]),
      gate: (i) => verifyEnvelope(envelopes[i], keys, GATE, now, texts[i]),
    },
    envelopes.length,
    8000,
  );
  const [sig, signature, digest, recommended, gate] = ['sigstore', 'signature', 'digest', 'recommended', 'gate'].map(
    (k) => 1e6 / (rates[k] ?? 0),
  ) as [number, number, number, number, number];
  const kib = (Buffer.from(envelopes[0]?.payload ?? '', 'base64').length / 1024).toFixed(1);
  console.log(`  20-dependency envelopes (${kib} KiB payload), envelopes/s, interleaved over 8 s:`);
  console.log(`    @sigstore/verify (bundle → verify, signature only)      ${fmt(sig).padStart(7)}`);
  console.log(`    engine: envelope + signature only (openEnvelope)        ${fmt(signature).padStart(7)}`);
  console.log(`    engine: + statement read, types, subject (no policy)    ${fmt(digest).padStart(7)}`);
  console.log(`    engine: + reporter, builder id, source ref (recommended) ${fmt(recommended).padStart(6)}`);
  console.log(`    engine: + every policy check (all 8)                    ${fmt(gate).padStart(7)}`);
  const ratio = (x: number) => `${(x / sig).toFixed(2)}`;
  console.log(
    `    / @sigstore/verify (aim >= 1.00): signature ${ratio(signature)}, no policy ${ratio(digest)}, recommended gate ${ratio(recommended)}, all checks ${ratio(gate)}`,
  );

  // Each part on its own, per call, interleaved the same way.
  const payload = Buffer.from(envelopes[0]?.payload ?? '', 'base64');
  const { statement } = readStatement(payload);
  if (!statement) throw new Error('unreadable statement');
  const parts = interleaved(
    {
      'statement read (UTF-8, JSON.parse, types)': () => readStatement(payload),
      'envelopeSha256 (sha256 of the text as read)': () => sha256Hex(texts[0] ?? ''),
      ...Object.fromEntries(
        Object.entries(POLICY_CHECKS).map(([name, check]) => [`check ${name}`, () => check(statement, GATE, now)]),
      ),
    },
    1,
    4000,
  );
  console.log('  cost per envelope of each part (µs, 20 dependencies):');
  for (const [name, us] of Object.entries(parts)) console.log(`    ${name.padEnd(44)} ${us.toFixed(2).padStart(8)}`);

  for (const deps of [10_000]) {
    const big: Envelope[] = [];
    for (let i = 0; i < 3; i++) big.push(await signStatement(statementOf(deps), signer));
    const bigTexts = big.map((e) => JSON.stringify(e));
    const perSecond = rate(() => big.filter((e, i) => verifyEnvelope(e, keys, GATE, now, bigTexts[i]).ok).length, 2000);
    const size = (Buffer.from(big[0]?.payload ?? '', 'base64').length / 1024).toFixed(0);
    console.log(
      `  ${fmt(deps)}-dependency envelopes (${size} KiB payload), the gate: ${perSecond.toFixed(1)} envelopes/s`,
    );
  }
}

if (require.main === module)
  verifyBench().catch((err) => {
    console.error(err);
    process.exit(1);
  });
