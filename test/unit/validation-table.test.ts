// Every field is validated at the boundary: a table of bad inputs, each
// answered with invalid_argument naming the field, and nothing written.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTaskStore } from '../../functions/adapters/memory-task-store.js';
import { selfReportHarness, STARTED, SHA, COMMIT, type Harness } from '../helpers/self-report-client.js';

const git = (over: Record<string, unknown>) => ({
  gitReport: { repo: 'https://github.com/example/repo', commit: COMMIT, refs: 'refs/heads/main', ...over },
});
const cipd = (over: Record<string, unknown>) => ({
  cipdReport: { packageName: 'infra/tools/foo/linux-amd64', iid: 'c'.repeat(40), ...over },
});
const gcs = (over: Record<string, unknown>) => ({
  gcsReport: { gcsUri: 'gs://example-bucket/deps/lib.tar.gz', digest: SHA, ...over },
});
const art = (over: Record<string, unknown>) => ({
  digest: SHA,
  artifact: { gcs: 'gs://example-bucket/out/app.tar.gz' },
  ...over,
});
const stage = (over: Record<string, unknown>) => ({ ...STARTED, ...over });
const future = new Date(Date.now() + 86_400_000).toISOString();

type Case = [name: string, method: string, body: unknown, field: string, taskId?: string];

const CASES: Case[] = [
  // git
  ['git report missing', 'ReportGit', {}, 'git_report'],
  ['git repo empty', 'ReportGit', git({ repo: '' }), 'git_report.repo'],
  ['git repo file scheme', 'ReportGit', git({ repo: 'file:///etc/passwd' }), 'git_report.repo'],
  ['git repo not a URL', 'ReportGit', git({ repo: 'not a url' }), 'git_report.repo'],
  ['git repo with credentials', 'ReportGit', git({ repo: 'https://user:secret@github.com/x/y' }), 'git_report.repo'],
  ['git repo with query', 'ReportGit', git({ repo: 'https://github.com/x/y?token=1' }), 'git_report.repo'],
  ['git repo too long', 'ReportGit', git({ repo: `https://github.com/${'x'.repeat(2100)}` }), 'git_report.repo'],
  ['git commit short', 'ReportGit', git({ commit: 'deadbeef' }), 'git_report.commit'],
  ['git commit not hex', 'ReportGit', git({ commit: 'z'.repeat(40) }), 'git_report.commit'],
  ['git commit empty', 'ReportGit', git({ commit: '' }), 'git_report.commit'],
  ['git ref not qualified', 'ReportGit', git({ refs: 'main' }), 'git_report.refs'],
  ['git ref with ..', 'ReportGit', git({ refs: 'refs/heads/a..b' }), 'git_report.refs'],
  ['git ref with space', 'ReportGit', git({ refs: 'refs/heads/a b' }), 'git_report.refs'],
  [
    'git too many refs',
    'ReportGit',
    git({ refs: Array.from({ length: 65 }, (_, i) => `refs/heads/b${i}`).join(',') }),
    'git_report.refs',
  ],
  ['git event_ts far future', 'ReportGit', git({ eventTs: future }), 'git_report.event_ts'],
  ['git event_ts before 2000', 'ReportGit', git({ eventTs: '1990-01-01T00:00:00Z' }), 'git_report.event_ts'],
  ['git requestor_id too long', 'ReportGit', git({ requestorId: 'r'.repeat(300) }), 'git_report.requestor_id'],
  // cipd
  ['cipd report missing', 'ReportCipd', {}, 'cipd_report'],
  ['cipd package uppercase', 'ReportCipd', cipd({ packageName: 'Infra/Tools' }), 'cipd_report.package_name'],
  ['cipd package leading slash', 'ReportCipd', cipd({ packageName: '/infra/tools' }), 'cipd_report.package_name'],
  ['cipd package dot-dot', 'ReportCipd', cipd({ packageName: 'infra/../tools' }), 'cipd_report.package_name'],
  ['cipd iid bad', 'ReportCipd', cipd({ iid: 'xyz' }), 'cipd_report.iid'],
  ['cipd iid empty', 'ReportCipd', cipd({ iid: '' }), 'cipd_report.iid'],
  ['cipd tag key bad', 'ReportCipd', cipd({ tags: [{ key: 'Bad Key', value: 'v' }] }), 'cipd_report.tags[0].key'],
  ['cipd tag value bad', 'ReportCipd', cipd({ tags: [{ key: 'k', value: 'bad\u0001' }] }), 'cipd_report.tags[0].value'],
  [
    'cipd too many tags',
    'ReportCipd',
    cipd({ tags: Array.from({ length: 101 }, (_, i) => ({ key: 'k', value: `v${i}` })) }),
    'cipd_report.tags',
  ],
  ['cipd ref name bad', 'ReportCipd', cipd({ refs: [{ name: 'LATEST!' }] }), 'cipd_report.refs[0].name'],
  // gcs
  ['gcs report missing', 'ReportGcs', {}, 'gcs_report'],
  ['gcs uri wrong scheme', 'ReportGcs', gcs({ gcsUri: 'https://storage.googleapis.com/b/o' }), 'gcs_report.gcs_uri'],
  ['gcs bucket invalid', 'ReportGcs', gcs({ gcsUri: 'gs://Bad_Bucket!/o' }), 'gcs_report.gcs_uri'],
  ['gcs bucket too short', 'ReportGcs', gcs({ gcsUri: 'gs://ab/o' }), 'gcs_report.gcs_uri'],
  ['gcs no object', 'ReportGcs', gcs({ gcsUri: 'gs://example-bucket/' }), 'gcs_report.gcs_uri'],
  ['gcs digest bad', 'ReportGcs', gcs({ digest: 'sha256:1234' }), 'gcs_report.digest'],
  ['gcs digest missing', 'ReportGcs', gcs({ digest: '' }), 'gcs_report.digest'],
  // artifact
  ['artifact digest bad', 'ReportArtifactDigest', art({ digest: 'md5:abc' }), 'digest'],
  ['artifact location missing', 'ReportArtifactDigest', { digest: SHA }, 'artifact'],
  ['artifact gcs uri bad', 'ReportArtifactDigest', art({ artifact: { gcs: 'gs://x' } }), 'artifact.gcs'],
  [
    'artifact cipd package bad',
    'ReportArtifactDigest',
    art({ artifact: { cipd: { packageName: 'A B', instanceId: 'c'.repeat(40) } } }),
    'artifact.cipd.package_name',
  ],
  [
    'artifact cipd iid bad',
    'ReportArtifactDigest',
    art({ artifact: { cipd: { packageName: 'a/b', instanceId: 'short' } } }),
    'artifact.cipd.instance_id',
  ],
  [
    'artifact cipd host bad',
    'ReportArtifactDigest',
    art({ artifact: { cipd: { packageName: 'a/b', instanceId: 'c'.repeat(40), host: 'bad host' } } }),
    'artifact.cipd.host',
  ],
  [
    'artifact oci image with tag',
    'ReportArtifactDigest',
    art({ artifact: { oci: { image: 'us-docker.pkg.dev/p/r/img:latest' } } }),
    'artifact.oci.image',
  ],
  [
    'artifact oci no registry',
    'ReportArtifactDigest',
    art({ artifact: { oci: { image: 'img' } } }),
    'artifact.oci.image',
  ],
  [
    'artifact oci tag bad',
    'ReportArtifactDigest',
    art({ artifact: { oci: { image: 'us-docker.pkg.dev/p/r/img', tag: '-bad' } } }),
    'artifact.oci.tag',
  ],
  ['artifact sbom subject bad', 'ReportArtifactDigest', art({ sbomSubjects: ['nope'] }), 'sbom_subjects[0]'],
  ['artifact sbom describes itself', 'ReportArtifactDigest', art({ sbomSubjects: [SHA] }), 'sbom_subjects'],
  // stage
  ['stage unspecified', 'ReportTaskStage', stage({ taskStage: 'STAGE_UNSPECIFIED' }), 'task_stage'],
  ['stage missing', 'ReportTaskStage', { recipe: 'r', pid: '1' }, 'task_stage'],
  ['stage unknown number', 'ReportTaskStage', stage({ taskStage: 42 }), 'task_stage'],
  ['STARTED without recipe', 'ReportTaskStage', stage({ recipe: '' }), 'recipe'],
  ['STARTED without pid', 'ReportTaskStage', stage({ pid: '0' }), 'pid'],
  ['pid negative', 'ReportTaskStage', stage({ pid: '-5' }), 'pid'],
  ['pid too large', 'ReportTaskStage', stage({ pid: '9999999999' }), 'pid'],
  ['recipe with newline', 'ReportTaskStage', stage({ recipe: 'a\nb' }), 'recipe'],
  ['recipe too long', 'ReportTaskStage', stage({ recipe: 'r'.repeat(600) }), 'recipe'],
  ['stage timestamp far future', 'ReportTaskStage', stage({ timestamp: future }), 'timestamp'],
  ['config_source uri scheme', 'ReportTaskStage', stage({ configSource: { uri: 'ftp://x/y' } }), 'config_source.uri'],
  [
    'config_source digest not hex',
    'ReportTaskStage',
    stage({ configSource: { uri: 'git+https://github.com/x/y', digest: { sha1: 'xyz' } } }),
    'config_source.digest.sha1',
  ],
  [
    'config_source digest unknown algorithm',
    'ReportTaskStage',
    stage({ configSource: { uri: 'git+https://github.com/x/y', digest: { SHA1: 'f'.repeat(40) } } }),
    'config_source.digest',
  ],
  [
    'config_source digest wrong length',
    'ReportTaskStage',
    stage({ configSource: { uri: 'git+https://github.com/x/y', digest: { sha256: 'f'.repeat(40) } } }),
    'config_source.digest.sha256',
  ],
  [
    'cipd iid base64 of a SHA-1 tag',
    'ReportCipd',
    cipd({ iid: Buffer.concat([Buffer.alloc(32, 7), Buffer.from([1])]).toString('base64url') }),
    'cipd_report.iid',
  ],
  // pid
  ['heartbeat pid missing', 'ReportPID', { reporter: '/usr/bin/reporter' }, 'pid'],
  ['heartbeat reporter missing', 'ReportPID', { pid: '7' }, 'reporter'],
  ['heartbeat reporter control char', 'ReportPID', { pid: '7', reporter: '/bin/r\u0007' }, 'reporter'],
  // free text: every field refuses characters that hide or reorder what it says
  ['recipe with RLO override', 'ReportTaskStage', stage({ recipe: 'build\u202egnp.exe' }), 'recipe'],
  ['recipe with LRI isolate', 'ReportTaskStage', stage({ recipe: 'a\u2066b\u2069' }), 'recipe'],
  ['recipe with C1 control', 'ReportTaskStage', stage({ recipe: 'a\u0085b' }), 'recipe'],
  ['recipe with line separator', 'ReportTaskStage', stage({ recipe: 'a\u2028b' }), 'recipe'],
  ['recipe with zero-width space', 'ReportTaskStage', stage({ recipe: 'cloud\u200bbuild.yaml' }), 'recipe'],
  ['recipe with BOM', 'ReportTaskStage', stage({ recipe: '\ufeffcloudbuild.yaml' }), 'recipe'],
  ['recipe with replacement char', 'ReportTaskStage', stage({ recipe: 'a\ufffdb' }), 'recipe'],
  [
    'config entry point with LRE',
    'ReportTaskStage',
    stage({ configSource: { uri: 'git+https://github.com/x/y', entryPoint: 'a\u202ab' } }),
    'config_source.entry_point',
  ],
  [
    'config uri with paragraph separator',
    'ReportTaskStage',
    stage({ configSource: { uri: 'git+https://github.com/x/y\u2029' } }),
    'config_source.uri',
  ],
  ['git repo with RLM', 'ReportGit', git({ repo: 'https://github.com/x/\u200fy' }), 'git_report.repo'],
  ['git requestor_id with PDI', 'ReportGit', git({ requestorId: 'me\u2069' }), 'git_report.requestor_id'],
  ['gcs object with RLO', 'ReportGcs', gcs({ gcsUri: 'gs://example-bucket/a\u202eb' }), 'gcs_report.gcs_uri'],
  ['gcs object with ZWJ', 'ReportGcs', gcs({ gcsUri: 'gs://example-bucket/a\u200db' }), 'gcs_report.gcs_uri'],
  [
    'artifact gcs with C1 NEL',
    'ReportArtifactDigest',
    art({ artifact: { gcs: 'gs://example-bucket/out\u0085' } }),
    'artifact.gcs',
  ],
  ['heartbeat reporter with ALM', 'ReportPID', { pid: '7', reporter: '/bin/\u061creporter' }, 'reporter'],
  ['heartbeat reporter with word joiner', 'ReportPID', { pid: '7', reporter: '/bin/re\u2060porter' }, 'reporter'],
  // int64 fields take decimal only (proto3 JSON), not hex, octal, binary or padded strings
  ['pid as hex string', 'ReportTaskStage', stage({ pid: '0x10' }), 'pid'],
  ['pid as octal string', 'ReportTaskStage', stage({ pid: '0o17' }), 'pid'],
  ['pid as binary string', 'ReportTaskStage', stage({ pid: '0b101' }), 'pid'],
  ['pid with spaces', 'ReportTaskStage', stage({ pid: ' 42 ' }), 'pid'],
  ['heartbeat pid as hex', 'ReportPID', { pid: '0x7', reporter: '/bin/r' }, 'pid'],
  // task id header
  ['task id with slash', 'ReportGit', git({}), 'X-Task-Id', 'a/b'],
  ['task id too long', 'ReportGit', git({}), 'X-Task-Id', 't'.repeat(129)],
  ['task id empty', 'ReportGit', git({}), 'X-Task-Id', ''],
];

describe('invalid UTF-8 in a JSON body is refused, not turned into U+FFFD', () => {
  const bodies: [string, Buffer][] = [
    [
      'lone continuation byte in a string',
      Buffer.concat([
        Buffer.from('{"taskStage":"STARTED","pid":"1","recipe":"a'),
        Buffer.from([0x80]),
        Buffer.from('"}'),
      ]),
    ],
    [
      'truncated 3-byte sequence',
      Buffer.concat([
        Buffer.from('{"taskStage":"STARTED","pid":"1","recipe":"a'),
        Buffer.from([0xe2, 0x82]),
        Buffer.from('"}'),
      ]),
    ],
    [
      'overlong encoding of "/"',
      Buffer.concat([
        Buffer.from('{"taskStage":"STARTED","pid":"1","recipe":"'),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from('"}'),
      ]),
    ],
    [
      'UTF-16 surrogate encoded in UTF-8',
      Buffer.concat([
        Buffer.from('{"taskStage":"STARTED","pid":"1","recipe":"'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]),
    ],
  ];
  for (const [name, raw] of bodies) {
    it(name, async () => {
      const store = new MemoryTaskStore();
      const h = selfReportHarness({ store });
      const r = await h.call('ReportTaskStage', undefined, { raw });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.equal(r.json.code, 'invalid_argument');
      assert.match(r.json.message, /UTF-8/);
      assert.equal(store.ops.writes, 0);
    });
  }
});

describe('validation: bad input is refused with the field named, nothing written', () => {
  let h: Harness;
  let store: MemoryTaskStore;
  before(async () => {
    store = new MemoryTaskStore();
    h = selfReportHarness({ store });
    // A started task, so stage and heartbeat cases fail on validation, not on state.
    const r = await h.call('ReportTaskStage', STARTED);
    assert.equal(r.status, 200);
  });

  it(`has at least 40 distinct cases (${CASES.length})`, () => {
    assert.ok(CASES.length >= 40);
    assert.equal(new Set(CASES.map((c) => c[0])).size, CASES.length);
  });

  for (const [name, method, body, field, taskId] of CASES) {
    it(name, async () => {
      const before = store.size();
      const writes = store.ops.writes;
      const r = await h.call(method, body, taskId === undefined ? {} : { taskId });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.equal(r.json.code, 'invalid_argument');
      assert.ok(
        r.json.message.startsWith(`${field}:`) || r.json.message.startsWith(`${field} `),
        `message should name ${field}: ${r.json.message}`,
      );
      assert.equal(store.size(), before, 'nothing stored');
      assert.equal(store.ops.writes, writes, 'no write attempted');
    });
  }
});
