// The build step's CLI as a separate process against the local server (the
// whole service in one process, in-memory store, in-process assembly): every
// report subcommand, batch (with a malformed line), the fail-open and --strict
// paths against a closed port and a server answering 503, `run` (exit codes,
// signals, heartbeats, nested reports), `collect`, --from-checkout on a real
// git repository, and tokens from a fake metadata server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from '../../functions/local/server.js';
import { DevIssuer, DEV_DEFAULT_EMAIL } from '../../functions/adapters/dev-issuer.js';
import { freePort } from '../../functions/local/emulators.js';
import type { TaskStore } from '../../functions/ports/task-store.js';
import type { ProvenanceStore } from '../../functions/ports/provenance-store.js';
import { AUDIENCE, type ServedLocally, serveLocally } from '../helpers/local-service.js';

const bin = join(__dirname, '..', '..', '..', 'bin', 'provenance.js');
const SHA = 'ab'.repeat(32);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(
  args: string[],
  env: Record<string, string | undefined> = {},
  opts: { cwd?: string; input?: string } = {},
): Promise<Ran> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      {
        env: {
          ...process.env,
          PROVENANCE_URL: undefined,
          PROVENANCE_TASK_ID: undefined,
          BUILD_ID: undefined,
          PROVENANCE_TOKEN: undefined,
          ...env,
        } as NodeJS.ProcessEnv,
        cwd: opts.cwd,
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        resolve({
          code: err ? ((err as { code?: number }).code ?? null) : 0,
          stdout,
          stderr,
          ms: performance.now() - t0,
        });
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

describe('the build step CLI against the local server', () => {
  let service: ServedLocally;
  let url: string;
  let devDir: string;
  let tasks: TaskStore;
  let provenance: ProvenanceStore;
  let env: Record<string, string>;

  before(async () => {
    service = await serveLocally();
    ({ url, devDir } = service);
    tasks = service.routes.stores.tasks;
    provenance = service.routes.stores.provenance;
    env = { PROVENANCE_URL: url, PROVENANCE_AUDIENCE: AUDIENCE, DEV_ISSUER_DIR: devDir };
  });
  after(() => service.close());

  const taskOf = async (id: string) => (await tasks.findTasks(id, DEV_DEFAULT_EMAIL))[0];

  it('reports with every subcommand, and the task is signed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-art-'));
    writeFileSync(join(dir, 'app.tar'), 'hello, provenance\n');
    const e = { ...env, PROVENANCE_TASK_ID: 'every-1' };
    const steps: string[][] = [
      [
        'report',
        'stage',
        'STARTED',
        '--recipe',
        'cloudbuild.yaml',
        '--pid',
        '4242',
        '--config-source-uri',
        'git+https://github.com/example/app',
        '--config-source-digest',
        `gitCommit:${'c'.repeat(40)}`,
      ],
      [
        'report',
        'git',
        '--repo',
        'https://github.com/example/app',
        '--commit',
        'a'.repeat(40),
        '--ref',
        'refs/heads/main',
      ],
      [
        'report',
        'cipd',
        '--package',
        'infra/tools/go/linux-amd64',
        '--instance-id',
        'b'.repeat(40),
        '--tag',
        'version:1.22',
        '--ref',
        'latest',
      ],
      ['report', 'gcs', '--uri', 'gs://example-deps/lib.tar.gz', '--digest', `sha256:${SHA}`],
      ['report', 'pid', '--pid', '4242'],
      ['report', 'artifact', '--file', join(dir, 'app.tar'), '--gcs', 'gs://example-out/app.tar'],
      ['report', 'artifact', '--digest', 'cd'.repeat(32), '--oci', 'us-docker.pkg.dev/example/apps/app:1.2.3'],
      ['report', 'stage', 'UPLOAD_COMPLETE'],
    ];
    for (const args of steps) {
      const r = await cli(args, e);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '', args.join(' '));
    }
    const task = await taskOf('every-1');
    assert.equal(task?.state, 'UPLOAD_COMPLETE');
    assert.equal((await tasks.listReports(task!.key)).length, 5);
    let record = await provenance.get(task!.key);
    for (const until = Date.now() + 30_000; record?.state !== 'signed' && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 50));
      record = await provenance.get(task!.key);
    }
    const fileDigest = createHash('sha256').update('hello, provenance\n').digest('hex');
    assert.deepEqual(record?.subjects.sort(), [fileDigest, 'cd'.repeat(32)].sort());
    // The same provenance as a Sigstore bundle, fetched and verified with the CLI.
    const fetched = await cli(['fetch', join(dir, 'app.tar'), '--format', 'bundle', '--url', url]);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.match(fetched.stderr, /1 bundle\(s\) for sha256:.*written to .*app\.tar\.sigstore\.json/);
    assert.equal((await cli(['keys', '--url', url, '-o', join(dir, 'key.pem')])).code, 0);
    const verified = await cli([
      'verify',
      '--key',
      join(dir, 'key.pem'),
      '--artifact',
      join(dir, 'app.tar'),
      '--bundle',
      join(dir, 'app.tar.sigstore.json'),
      '--reporter',
      DEV_DEFAULT_EMAIL,
    ]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /^verified sha256:/);
    // The key set (GET /v1/keys) instead of a PEM: from a file, or fetched with --url.
    const set = await (await fetch(`${url}/v1/keys`)).text();
    writeFileSync(join(dir, 'keys.json'), set);
    const withSet = await cli([
      'verify',
      '--keys',
      join(dir, 'keys.json'),
      '--artifact',
      join(dir, 'app.tar'),
      '--bundle',
      join(dir, 'app.tar.sigstore.json'),
    ]);
    assert.equal(withSet.code, 0, withSet.stderr);
    const fromUrl = await cli([
      'verify',
      '--url',
      url,
      '--artifact',
      join(dir, 'app.tar'),
      '--reporter',
      DEV_DEFAULT_EMAIL,
    ]);
    assert.equal(fromUrl.code, 0, fromUrl.stderr);
    const keySets: [string, string, RegExp][] = [
      ['empty', '', /the key set is empty/],
      ['not-json', '[{', /the key set is not JSON/],
      ['not-a-list', '{"keyId": "k"}', /not a JSON list/],
      ['bad-pem', '[{"keyId": "k", "pem": "nope"}]', /key 1 \(k\): pem is not a public key/],
      [
        'other-key',
        JSON.stringify([
          {
            keyId: 'projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/9',
            pem: (JSON.parse(set) as { pem: string }[])[0]!.pem,
          },
        ]),
        /signed with key "local:sha256:[0-9a-f]+", which is not in the key set \(projects\/p\/.*\/cryptoKeyVersions\/9\)/,
      ],
    ];
    for (const [name, text, message] of keySets) {
      writeFileSync(join(dir, `${name}.keys.json`), text);
      const bad = await cli([
        'verify',
        '--keys',
        join(dir, `${name}.keys.json`),
        '--artifact',
        join(dir, 'app.tar'),
        '--bundle',
        join(dir, 'app.tar.sigstore.json'),
      ]);
      assert.equal(bad.code, 1, `${name}: ${bad.stderr}`);
      assert.match(bad.stderr, message, name);
      assert.equal(bad.stderr.trim().split('\n').length, 1, `${name}: one FAIL line`);
    }
    const cases: [string, string, RegExp][] = [
      ['empty', '', /is empty: not a Sigstore bundle/],
      ['not-json', '{nope', /is not JSON: .*: not a Sigstore bundle/],
      [
        'media-type',
        JSON.stringify({ mediaType: 'application/vnd.example+json' }),
        /mediaType "application\/vnd.example\+json" is not a Sigstore bundle's/,
      ],
      ['no-envelope', JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }), /FAIL: /],
    ];
    for (const [name, text, message] of cases) {
      writeFileSync(join(dir, `${name}.sigstore.json`), text);
      const bad = await cli([
        'verify',
        '--key',
        join(dir, 'key.pem'),
        '--artifact',
        join(dir, 'app.tar'),
        '--bundle',
        join(dir, `${name}.sigstore.json`),
      ]);
      assert.equal(bad.code, 1, `${name}: ${bad.stderr}`);
      assert.match(bad.stderr, message, name);
      assert.equal(bad.stderr.trim().split('\n').length, 1, `${name}: one FAIL line`);
      assert.ok(!/ {4}at /.test(bad.stderr), `${name}: no stack trace`);
    }
  });

  it("refuses bad input before any network call (exit 1, the field named), and relays the server's refusals", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const typo = await cli(['report', 'git', '--repo', 'https://github.com/example/app', '--commit', 'deadbeef'], {
      ...env,
      PROVENANCE_URL: closed,
      PROVENANCE_TASK_ID: 't',
    });
    assert.equal(typo.code, 1);
    assert.match(typo.stderr, /git_report.commit: must be a full commit id.*nothing was sent/);
    const notStarted = await cli(['report', 'pid', '--pid', '1'], { ...env, PROVENANCE_TASK_ID: 'never-started' });
    assert.equal(notStarted.code, 1);
    assert.match(notStarted.stderr, /failed_precondition: task "never-started" has not been started/);
    const usage = await cli(['report', 'artifact', '--digest', SHA], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /exactly one of --gcs, --cipd/);
    const noTask = await cli(['report', 'stage', 'FETCH'], env);
    assert.deepEqual([noTask.code, /no task id/.test(noTask.stderr)], [2, true]);
  });

  it('fails open against a closed port (warning, exit 0), and exits 3 with --strict', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const e = { ...env, PROVENANCE_URL: closed, PROVENANCE_TASK_ID: 'open-1' };
    const open = await cli(['report', 'stage', 'FETCH', '--timeout', '1s'], e);
    assert.equal(open.code, 0, open.stderr);
    assert.match(
      open.stderr,
      /^provenance: warning: the service stayed unreachable for 1s .*continuing without provenance/,
    );
    assert.equal(open.stderr.trim().split('\n').length, 1);
    const strict = await cli(['report', 'stage', 'FETCH', '--timeout', '1s', '--strict'], e);
    assert.equal(strict.code, 3, strict.stderr);
    assert.equal(
      (await cli(['report', 'stage', 'FETCH', '--timeout', '500ms'], { ...e, PROVENANCE_STRICT: '1' })).code,
      3,
    );
  });

  it('retries a server answering 503 with backoff, then fails open (or exit 3 with --strict)', async () => {
    let hits = 0;
    const busy = createServer((req, res) => {
      hits++;
      req.resume();
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code: 'unavailable', message: 'firestore did not answer within 10s; retry' }));
    });
    const busyUrl = await listen(busy, 0);
    try {
      const e = { ...env, PROVENANCE_URL: busyUrl.replace('localhost', '127.0.0.1'), PROVENANCE_TASK_ID: 'busy-1' };
      // 5 s: room for a cold CLI's first request and two backoffs on a loaded machine.
      const open = await cli(['report', 'stage', 'FETCH', '--timeout', '5s'], e);
      assert.equal(open.code, 0);
      assert.match(open.stderr, /unreachable for 5s \(unavailable: firestore did not answer/);
      assert.ok(hits >= 3, `retried ${hits} time(s)`);
      assert.equal((await cli(['report', 'stage', 'FETCH', '--timeout', '1s', '--strict'], e)).code, 3);
    } finally {
      busy.close();
    }
  });

  it('sends a batch in order over keep-alive, stops at a malformed line, and --keep-going sends the rest', async () => {
    const e = { ...env, PROVENANCE_TASK_ID: 'batch-1' };
    const line = (o: object) => JSON.stringify(o);
    const gcs = (n: number) =>
      line({
        method: 'ReportGcs',
        gcsReport: { gcsUri: `gs://deps/lib-${n}.tar`, digest: n.toString(16).padStart(64, '0') },
      });
    const input = [
      line({ method: 'ReportTaskStage', taskStage: 'STARTED', recipe: 'b.yaml', pid: '1' }),
      gcs(1),
      gcs(2),
      '{"method": "ReportGcs", "gcsReport": {"gcsUri": "gs://deps/x", "digest": "nope"}}',
      gcs(3),
      line({ method: 'ReportTaskStage', taskStage: 'FETCH' }),
    ].join('\n');
    const stopped = await cli(['report', 'batch'], e, { input });
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /batch line 4: ReportGcs: gcs_report.digest: must be a sha256 digest/);
    assert.match(stopped.stderr, /batch: 3 sent, 0 refused, 1 malformed, 2 not sent/);
    const task = await taskOf('batch-1');
    assert.equal(task?.state, 'STARTED');
    assert.equal((await tasks.listReports(task!.key)).length, 2);

    const file = join(mkdtempSync(join(tmpdir(), 'batch-')), 'r.jsonl');
    writeFileSync(file, input);
    const kept = await cli(['report', 'batch', '--file', file, '--keep-going'], e);
    assert.equal(kept.code, 1);
    assert.match(kept.stderr, /batch: 5 sent, 0 refused, 1 malformed, 0 not sent/);
    assert.equal((await taskOf('batch-1'))?.state, 'FETCH');
    assert.equal((await tasks.listReports(task!.key)).length, 3);

    const many = [
      line({ method: 'ReportTaskStage', taskStage: 'STARTED', recipe: 'b.yaml', pid: '1' }),
      ...Array.from({ length: 200 }, (_, i) => gcs(100 + i)),
      line({ method: 'ReportTaskStage', taskStage: 'COMPILE' }),
    ].join('\n');
    const big = await cli(['report', 'batch', '-'], { ...env, PROVENANCE_TASK_ID: 'batch-2' }, { input: many });
    assert.equal(big.code, 0, big.stderr);
    assert.match(big.stderr, /batch: 202 sent, 0 refused, 0 malformed, 0 not sent/);
    const t2 = await taskOf('batch-2');
    assert.equal(t2?.state, 'COMPILE');
    assert.equal((await tasks.listReports(t2!.key)).length, 200);
  });

  it('run: passes exit code 3 through; STARTED, heartbeats and COMPLETE are in the task; reports from inside land in it', async () => {
    const inner = `"${process.execPath}" "${bin}" report git --repo https://github.com/example/inner --commit ${'e'.repeat(40)}`;
    const r = await cli(
      [
        'run',
        '--task',
        'run-1',
        '--heartbeat',
        '200ms',
        '--recipe',
        'make test',
        '--',
        'sh',
        '-c',
        `${inner} && sleep 1 && exit 3`,
      ],
      env,
    );
    assert.equal(r.code, 3, r.stderr);
    const task = await taskOf('run-1');
    assert.equal(task?.state, 'COMPLETE');
    assert.equal(task?.recipe, 'make test');
    assert.ok(task?.lastHeartbeatAt, 'heartbeats were recorded');
    assert.ok(task!.stageTimes.STARTED && task!.stageTimes.COMPLETE);
    assert.equal(task!.stageTimes.UPLOAD_COMPLETE, undefined, 'a failed command reports no UPLOAD_COMPLETE');
    const reports = await tasks.listReports(task!.key);
    assert.deepEqual(
      reports.map((x) => (x.report as { repo?: string }).repo),
      ['https://github.com/example/inner'],
    );
  });

  it('run: a heartbeat the service never answers does not hold the exit back', async () => {
    // Heartbeats go to a proxy that never answers them; everything else reaches the service.
    const hung: unknown[] = [];
    const proxy = createServer((req, res) => {
      if (req.url?.endsWith('/ReportPID')) return void hung.push(res);
      const upstream = new URL(req.url!, url);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const r = await fetch(upstream, {
          method: req.method,
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(chunks),
        });
        res
          .writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' })
          .end(Buffer.from(await r.arrayBuffer()));
      });
    });
    const proxyUrl = (await listen(proxy, 0)).replace('localhost', '127.0.0.1');
    try {
      const r = await cli(['run', '--task', 'run-hb', '--heartbeat', '100ms', '--', 'sh', '-c', 'sleep 0.6'], {
        ...env,
        PROVENANCE_URL: proxyUrl,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(hung.length >= 2, `${hung.length} heartbeat(s) in flight`);
      // A heartbeat waiting out its 30 s budget would hold the exit ≥ 30 s; 0.6 s of command, start-up and
      // three stage reports (STARTED now before the command) take a few seconds on a loaded machine.
      assert.ok(r.ms < 15_000, `run took ${r.ms.toFixed(0)} ms`);
      assert.equal((await taskOf('run-hb'))?.state, 'COMPLETE');
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it('run: a child killed by a signal exits 128 + its number', async () => {
    const r = await cli(['run', '--task', 'run-2', '--', 'sh', '-c', 'kill -TERM $$'], env);
    assert.equal(r.code, 143, r.stderr);
    assert.equal((await taskOf('run-2'))?.state, 'COMPLETE');
  });

  it("run --collect: a successful command's outputs are reported, then UPLOAD_COMPLETE and COMPLETE", async () => {
    const out = mkdtempSync(join(tmpdir(), 'outputs-'));
    const cmd = `echo '{"gcs": "gs://example-out/app.tar", "digest": "sha256:${SHA}"}' > ${out}/artifacts.jsonl`;
    const r = await cli(['run', '--task', 'run-3', '--collect', out, '--', 'sh', '-c', cmd], env);
    assert.equal(r.code, 0, r.stderr);
    const task = await taskOf('run-3');
    assert.equal(task?.state, 'COMPLETE');
    assert.ok(task?.stageTimes.UPLOAD_COMPLETE);
    assert.equal((await tasks.listReports(task!.key)).filter((x) => x.report.kind === 'artifact').length, 1);
  });

  it('collect: reports good files; a malformed line fails with file:line and nothing is sent; a missing folder is fine', async () => {
    const e = { ...env, PROVENANCE_TASK_ID: 'collect-1' };
    assert.equal((await cli(['report', 'stage', 'STARTED', '--recipe', 'r', '--pid', '1'], e)).code, 0);
    const good = mkdtempSync(join(tmpdir(), 'collect-'));
    writeFileSync(
      join(good, 'images.jsonl'),
      `{"image": "us-docker.pkg.dev/p/r/app:1.2", "digest": "sha256:${SHA}"}\n{"cipd": "pkg/name", "instance_id": "${'f'.repeat(40)}", "digest": "sha256:${'12'.repeat(32)}"}\n`,
    );
    writeFileSync(
      join(good, 'gcs.jsonl'),
      `{"gcs": "gs://bkt/o.tar", "digest": "${'34'.repeat(32)}", "sbom_for": ["sha256:${SHA}"]}\n`,
    );
    const ok = await cli(['collect', '--dir', good], e);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /collect: 3 sent/);
    const bad = mkdtempSync(join(tmpdir(), 'collect-bad-'));
    writeFileSync(
      join(bad, 'a.jsonl'),
      `{"image": "us-docker.pkg.dev/p/r/other:1", "digest": "sha256:${'56'.repeat(32)}"}\nnot json\n{"gcs": "gs://b/o", "digest": "sha1:abc"}\n`,
    );
    const refused = await cli(['collect', '--dir', bad], e);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`${bad}/a.jsonl:2: not JSON`));
    assert.match(refused.stderr, new RegExp(`${bad}/a.jsonl:3: digest: must be a sha256`));
    const task = await taskOf('collect-1');
    assert.equal((await tasks.listReports(task!.key)).length, 3, 'nothing of the malformed folder was sent');
    const missing = await cli(['collect', '--dir', join(good, 'nope')], e);
    assert.deepEqual([missing.code, /no outputs folder/.test(missing.stderr)], [0, true]);
    const emptyDir = mkdtempSync(join(tmpdir(), 'collect-empty-'));
    assert.equal((await cli(['collect'], { ...e, BUILDER_OUTPUT: emptyDir })).code, 0);
    // A dangling link beside a good file: a path: reason line and exit 1, and the good file is still reported.
    const linked = mkdtempSync(join(tmpdir(), 'collect-link-'));
    writeFileSync(join(linked, 'ok.jsonl'), `{"gcs": "gs://bkt/linked.tar", "digest": "sha256:${'78'.repeat(32)}"}\n`);
    symlinkSync(join(linked, 'missing.jsonl'), join(linked, 'broken.jsonl'));
    const dangling = await cli(['collect', '--dir', linked], e);
    assert.equal(dangling.code, 1, dangling.stderr);
    assert.match(dangling.stderr, new RegExp(`${linked}/broken.jsonl: a dangling symbolic link`));
    assert.match(dangling.stderr, /collect: 1 sent/);
    assert.equal((await tasks.listReports(task!.key)).length, 4, 'the good file beside the link was reported');
  });

  it('report git --from-checkout reads a real checkout: credentials stripped, HEAD, the refs containing it', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'checkout-'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repo, ...args], {
        encoding: 'utf8',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@e',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@e',
        },
      }).trim();
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'f'), 'x');
    git('add', 'f');
    git('commit', '-q', '-m', 'one');
    git('tag', 'v1');
    git('branch', 'release');
    git('remote', 'add', 'origin', 'https://x-access-token:s3cret@github.com/example/app.git');
    mkdirSync(join(repo, '.git', 'refs', 'remotes', 'origin'), { recursive: true });
    git('update-ref', 'refs/remotes/origin/stable', 'HEAD');
    const head = git('rev-parse', 'HEAD');
    const e = { ...env, PROVENANCE_TASK_ID: 'checkout-1' };
    assert.equal((await cli(['report', 'stage', 'STARTED', '--recipe', 'r', '--pid', '1'], e)).code, 0);
    const r = await cli(['report', 'git', '--from-checkout', repo], e);
    assert.equal(r.code, 0, r.stderr);
    const task = await taskOf('checkout-1');
    const [report] = await tasks.listReports(task!.key);
    assert.deepEqual(report?.report, {
      kind: 'git',
      repo: 'https://github.com/example/app.git',
      commit: head,
      refs: ['refs/heads/main', 'refs/heads/release', 'refs/heads/stable', 'refs/tags/v1'],
    });
    assert.ok(!JSON.stringify(report).includes('s3cret'));
  });

  it('gets its token from the metadata server (once per process) when the service is not local', async () => {
    const issuer = DevIssuer.fromDirectory(devDir);
    const asked: string[] = [];
    const metadata = createServer((req, res) => {
      asked.push(req.url ?? '');
      if (req.headers['metadata-flavor'] !== 'Google') return void res.writeHead(403).end();
      const audience = new URL(req.url!, 'http://x').searchParams.get('audience') ?? '';
      res
        .writeHead(200, { 'metadata-flavor': 'Google', 'content-type': 'text/plain' })
        .end(issuer.mint({ audience, email: DEV_DEFAULT_EMAIL }));
    });
    const mdPort = await freePort();
    await new Promise<void>((r) => metadata.listen(mdPort, '127.0.0.1', r));
    // 127.0.0.2 is loopback too, but not "a local npm start": the CLI asks the metadata server.
    const remote = createServer((req, res) => service.server.emit('request', req, res));
    const remoteUrl = (await listen(remote, 0, '127.0.0.2')).replace('localhost', '127.0.0.2');
    try {
      const e = {
        PROVENANCE_URL: remoteUrl,
        PROVENANCE_AUDIENCE: AUDIENCE,
        GCE_METADATA_HOST: `127.0.0.1:${mdPort}`,
        PROVENANCE_TASK_ID: 'metadata-1',
      };
      const input = [
        JSON.stringify({ method: 'ReportTaskStage', taskStage: 'STARTED', recipe: 'r', pid: '1' }),
        ...[1, 2, 3].map((n) =>
          JSON.stringify({ method: 'ReportGcs', gcsReport: { gcsUri: `gs://dep/${n}`, digest: SHA } }),
        ),
      ].join('\n');
      const r = await cli(['report', 'batch'], e, { input });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(asked.length, 1, `asked the metadata server ${asked.length} times: ${asked.join(' ')}`);
      assert.match(
        asked[0]!,
        /^\/computeMetadata\/v1\/instance\/service-accounts\/default\/identity\?format=full&audience=https:\/\/provenance.test$/,
      );
      assert.equal((await tasks.listReports((await taskOf('metadata-1'))!.key)).length, 3);
    } finally {
      metadata.close();
      remote.close();
    }
  });

  it('--help shows a real example on every command; --version prints the version', async () => {
    for (const cmd of [
      ['report', 'stage'],
      ['report', 'git'],
      ['report', 'cipd'],
      ['report', 'gcs'],
      ['report', 'artifact'],
      ['report', 'pid'],
      ['report', 'batch'],
      ['run'],
      ['collect'],
      ['redrive'],
    ]) {
      const r = await cli([...cmd, '--help']);
      assert.equal(r.code, 0, cmd.join(' '));
      assert.match(r.stdout, /Example:\n {2}\S/, cmd.join(' '));
    }
    const v = await cli(['--version']);
    assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });
});
