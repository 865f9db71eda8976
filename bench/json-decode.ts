// bench:json — the cost of the strict JSON reader in the server's decode path.
// Per body, in alternating rounds: JSON.parse alone (the floor), the decode
// before the shared reader (fatal UTF-8 + protobuf's fromJsonString), and the
// decode now (parseStrictJson on the bytes + fromJson). Prints µs per body
// and the ratio now/before (medians); never passes or fails on time. (Before,
// a message with integer fields was also parsed a second time for the integer
// check; that parse is not counted, so "before" is a little flattered.)
import { fromJson, fromJsonString, type DescMessage } from '@bufbuild/protobuf';
import { parseStrictJson } from '../functions/domain/strict-json-text.js';
import {
  ReportArtifactDigestRequestSchema,
  ReportGitRequestSchema,
  ReportTaskStageRequestSchema,
} from '../functions/gen/provenance/snooperpb/report_pb.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SHA = 'ab'.repeat(32);
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const bodies: [string, DescMessage, object, number][] = [
  [
    'ReportGit',
    ReportGitRequestSchema,
    { gitReport: { repo: 'https://github.com/example/app', commit: 'a'.repeat(40), refs: 'refs/heads/main' } },
    40_000,
  ],
  [
    'ReportTaskStage STARTED',
    ReportTaskStageRequestSchema,
    {
      taskStage: 'STARTED',
      recipe: 'cloudbuild.yaml',
      pid: '4242',
      configSource: { uri: 'git+https://github.com/example/app', digest: { gitCommit: 'c'.repeat(40) } },
    },
    40_000,
  ],
  [
    'ReportArtifactDigest, 900 SBOM subjects',
    ReportArtifactDigestRequestSchema,
    {
      digest: SHA,
      artifact: { gcs: 'gs://example-bucket/out/sbom.json' },
      sbomSubjects: Array.from({ length: 900 }, (_, i) => i.toString(16).padStart(64, '0')),
    },
    400,
  ],
];

const perCall = (n: number, f: () => unknown): number => {
  for (let i = 0; i < Math.min(n, 2000); i++) f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t) / n / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

console.log(`bench:json — server JSON decode, ${ROUNDS} alternating rounds, Node ${process.versions.node}\n`);
for (const [name, schema, json, n] of bodies) {
  const bytes = Buffer.from(JSON.stringify(json));
  const floor: number[] = [];
  const before: number[] = [];
  const now: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    floor.push(perCall(n, () => JSON.parse(UTF8.decode(bytes))));
    before.push(perCall(n, () => fromJsonString(schema, UTF8.decode(bytes), { ignoreUnknownFields: false })));
    now.push(perCall(n, () => fromJson(schema, parseStrictJson(bytes) as never, { ignoreUnknownFields: false })));
  }
  const ratios = before.map((b, i) => (now[i] ?? 0) / b);
  console.log(
    `${name} (${bytes.length} B): JSON.parse ${median(floor).toFixed(1)} µs, before ${median(before).toFixed(1)} µs, now ${median(now).toFixed(1)} µs; now/before ${median(ratios).toFixed(2)} (per round ${ratios.map((x) => x.toFixed(2)).join(', ')})`,
  );
}
