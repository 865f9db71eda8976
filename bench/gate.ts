// The deploy gate's cost (bench:assemble, verify section): `provenance verify`
// in-process on the same envelope file, with the policy given as flags, as a
// policy file (--policy: the file read, parsed and its key loaded each run, as
// a CLI run does), and as a policy file with --vsa (a VSA signed with a local
// P-256 key and written as .intoto.jsonl and .sigstore.json). Runs per second,
// one core, and each beside the flags in the same run.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSigner } from '../functions/adapters/local-signer.js';
import { signStatement } from '../functions/provenance/dsse.js';
import type { Statement } from '../functions/provenance/statement.js';
import { prepareGate, writeGateVsa } from '../functions/cli/gate.js';
import { buildPolicyFromFlags, runVerify, type VerifyOptions } from '../functions/cli/verify-command.js';

const SHA = 'ab'.repeat(32);
const REPO = 'https://github.com/example/app';

function statement(deps: number): Statement {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'gs://release-bucket/app.tar', digest: { sha256: SHA } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://example/bt',
        externalParameters: {},
        internalParameters: { reporter: 'builder@example.com' },
        resolvedDependencies: [
          { uri: `git+${REPO}`, digest: { gitCommit: '0'.repeat(40) }, annotations: { refs: ['refs/heads/main'] } },
          ...Array.from({ length: deps - 1 }, (_, i) => ({
            uri: `git+https://github.com/example/dep-${i}`,
            digest: { gitCommit: i.toString(16).padStart(40, '0') },
            annotations: { refs: ['refs/heads/main'] },
          })),
        ],
      },
      runDetails: {
        builder: { id: 'https://builder.example' },
        metadata: { invocationId: 't', startedOn: '2026-06-01T00:00:00Z', finishedOn: '2026-06-01T00:10:00Z' },
        byproducts: [],
      },
    },
  } as unknown as Statement;
}

async function rate(run: () => Promise<unknown>, ms = 2000): Promise<number> {
  for (let i = 0; i < 20; i++) await run(); // warm up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await run();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

export async function gateThroughput(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-gate-'));
  try {
    const signer = LocalSigner.ephemeral();
    writeFileSync(join(dir, 'key.pem'), (await signer.publicKey()).pem);
    writeFileSync(
      join(dir, 'gate-key.pem'),
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    writeFileSync(join(dir, 'app.intoto.jsonl'), `${JSON.stringify(await signStatement(statement(20), signer))}\n`);
    const flags = {
      builderId: ['https://builder.example'],
      reporter: ['builder@example.com'],
      sourceUri: [REPO],
      sourceRef: ['refs/heads/main'],
      maxAge: '3650d',
      subjectPattern: ['gs://release-bucket/**'],
    };
    writeFileSync(
      join(dir, 'policy.yaml'),
      `apiVersion: build-provenance/policy/v1
keys: [{pem: key.pem}]
builderIds: [https://builder.example]
reporters: [builder@example.com]
sources: [{repository: ${REPO}, refs: [refs/heads/main]}]
maxAge: 3650d
subjects: ["gs://release-bucket/**"]
`,
    );
    const input = { digest: `sha256:${SHA}`, provenance: join(dir, 'app.intoto.jsonl') };
    const now = new Date('2026-06-02T00:00:00Z');
    const mustPass = (ok: boolean) => {
      if (!ok) throw new Error('the bench envelope should pass');
    };
    const viaFlags = async () => {
      const opts: VerifyOptions = { ...input, ...flags, key: join(dir, 'key.pem') };
      mustPass((await runVerify(opts, buildPolicyFromFlags(opts), now)).ok);
    };
    const viaPolicy = async (vsa: boolean) => {
      const opts = {
        ...input,
        policy: join(dir, 'policy.yaml'),
        ...(vsa
          ? {
              vsa: join(dir, 'app.vsa.intoto.jsonl'),
              vsaKey: join(dir, 'gate-key.pem'),
              verifierId: 'https://gate.example.com',
              resourceUri: 'gs://release-bucket/app.tar',
            }
          : {}),
      };
      const gate = await prepareGate(opts);
      const report = await runVerify(opts, gate.rules, now, gate.trusted);
      mustPass(report.ok);
      if (vsa) await writeGateVsa(opts, gate, report, gate.rules ?? {}, now, 'bench');
    };
    const f = await rate(viaFlags);
    const p = await rate(() => viaPolicy(false));
    const v = await rate(() => viaPolicy(true));
    console.log(`  verify, flags (20-dependency envelope, 6 checks):     ${f.toFixed(0)} runs/s`);
    console.log(
      `  verify --policy (same checks, file read each run):    ${p.toFixed(0)} runs/s (${(p / f).toFixed(2)}x flags)`,
    );
    console.log(
      `  verify --policy --vsa (local P-256 key, 2 files):     ${v.toFixed(0)} runs/s (${(v / f).toFixed(2)}x flags)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
