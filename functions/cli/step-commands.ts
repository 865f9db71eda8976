// The build step's commands: `report <kind>`, `report batch`, `run`,
// `collect`. Options shared by all of them come from flags or the environment
// (PROVENANCE_URL, PROVENANCE_TASK_ID else Cloud Build's BUILD_ID,
// PROVENANCE_AUDIENCE, PROVENANCE_STRICT=1), so a step inside `provenance run`
// needs none.
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { artifactBody, cipdBody, gcsBody, gitBody, pidBody, stageBody, type ArtifactWhere } from './report/bodies.js';
import { isMethod, METHOD_NAMES } from './report/methods.js';
import { Reporter, type BatchItem } from './report/reporter.js';
import { tokenSource } from './report/tokens.js';
import { readCheckout } from './git-checkout.js';
import { collectOutputs, DEFAULT_OUTPUTS_DIR } from './collect.js';
import { jsonObjectLines } from './json-lines.js';
import { readFlagFile } from './flag-file.js';
import { runWrapped } from './run.js';
import { sha256File } from './digest.js';
import { CliError, EXIT, UsageError } from './exit-codes.js';

interface Common {
  url?: string;
  task?: string;
  audience?: string;
  timeout: string;
  strict?: boolean;
}

const EXAMPLE_URL = 'https://self-report-abc123-uc.a.run.app';

/** "30s", "500ms", "2m" or plain seconds → ms. */
export function duration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new UsageError(`${flag}: "${value}" is not a duration (e.g. 30s, 500ms, 2m)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

function withCommon(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <service>', 'the provenance service (env PROVENANCE_URL)'))
    .addOption(new Option('--task <id>', "the task id (env PROVENANCE_TASK_ID, else Cloud Build's BUILD_ID)"))
    .addOption(new Option('--audience <aud>', 'audience of the ID token (env PROVENANCE_AUDIENCE; default: the URL)'))
    .option('--timeout <duration>', 'time budget per report, retries included', '30s')
    .option('--strict', 'exit 3 if the service stays unreachable (env PROVENANCE_STRICT=1); default: warn and exit 0');
}

interface Context {
  reporter: Reporter;
  url: string;
  taskId: string;
  audience: string;
  env: Record<string, string>;
}

function context(o: Common, concurrency?: number): Context {
  const url = o.url ?? process.env.PROVENANCE_URL;
  if (!url) throw new UsageError('no service URL: pass --url or set PROVENANCE_URL');
  const taskId = o.task ?? process.env.PROVENANCE_TASK_ID ?? process.env.BUILD_ID;
  if (!taskId) throw new UsageError('no task id: pass --task, or set PROVENANCE_TASK_ID (Cloud Build sets BUILD_ID)');
  const audience = o.audience ?? process.env.PROVENANCE_AUDIENCE ?? url;
  const strict = o.strict === true || process.env.PROVENANCE_STRICT === '1';
  const tokens = tokenSource({ url, audience });
  const reporter = new Reporter({
    url,
    taskId,
    tokens,
    timeoutMs: duration(o.timeout, '--timeout'),
    strict,
    ...(concurrency ? { concurrency } : {}),
  });
  const env: Record<string, string> = {
    PROVENANCE_URL: url,
    PROVENANCE_TASK_ID: taskId,
    PROVENANCE_AUDIENCE: audience,
    ...(strict ? { PROVENANCE_STRICT: '1' } : {}),
  };
  if (process.env.PROVENANCE_TOKEN) env.PROVENANCE_TOKEN = process.env.PROVENANCE_TOKEN;
  return { reporter, url, taskId, audience, env };
}

/** Commander's collector for a repeatable option: every value, in order. */
export const collectList = (v: string, all: string[] = []) => [...all, v];
const example = (lines: string) => `\nExample:\n${lines}\n`;

async function sendBatch(reporter: Reporter, items: BatchItem[], keepGoing: boolean, label: string): Promise<number> {
  const started = performance.now();
  const summary = await reporter.batch(items, keepGoing, (line, message) =>
    process.stderr.write(`${label} line ${line}: ${message}\n`),
  );
  process.stderr.write(
    `${label}: ${summary.sent} sent, ${summary.refused} refused, ${summary.malformed} malformed, ${summary.skipped} not sent${summary.unreachable ? ' (service unreachable)' : ''} in ${((performance.now() - started) / 1000).toFixed(2)} s\n`,
  );
  return summary.refused || summary.malformed ? EXIT.refused : EXIT.ok;
}

export function registerStepCommands(program: Command): void {
  const report = program
    .command('report')
    .description('build steps: report what this step fetched, built and where it is (one subcommand per RPC)');
  report.addHelpText(
    'after',
    example(
      `  export PROVENANCE_URL=${EXAMPLE_URL} PROVENANCE_TASK_ID=$BUILD_ID\n  provenance report git --from-checkout .\n  provenance report artifact --file dist/app.tar --gcs gs://my-bucket/app.tar`,
    ),
  );

  withCommon(
    report.command('stage').argument('<stage>', 'STARTED, FETCH, COMPILE, UPLOAD, UPLOAD_COMPLETE, TEST or COMPLETE'),
  )
    .description('report the stage the task is in (STARTED needs --recipe and --pid)')
    .option('--recipe <recipe>', "the build's entry point (required with STARTED)")
    .option('--pid <pid>', "the task's process id (required with STARTED)")
    .option('--config-source-uri <uri>', 'where the build configuration came from (with STARTED)')
    .option('--config-source-digest <alg:hex>', 'its digest (repeatable)', collectList)
    .option('--config-source-entry-point <path>', 'the file within it')
    .addHelpText(
      'after',
      example(
        '  provenance report stage STARTED --recipe cloudbuild.yaml --pid $$ \\\n    --config-source-uri git+https://github.com/example/app --config-source-digest gitCommit:$COMMIT_SHA',
      ),
    )
    .action(
      async (
        stage: string,
        o: Common & {
          recipe?: string;
          pid?: string;
          configSourceUri?: string;
          configSourceDigest?: string[];
          configSourceEntryPoint?: string;
        },
      ) => {
        await context(o).reporter.report('ReportTaskStage', stageBody(stage, o));
      },
    );

  withCommon(report.command('git'))
    .description('report a git checkout: --repo and --commit, or --from-checkout <dir>')
    .option('--repo <url>', 'repository URL (no credentials)')
    .option('--commit <sha>', 'full commit id')
    .option('--ref <ref>', 'a full ref containing the commit, e.g. refs/heads/main (repeatable)', collectList)
    .option('--from-checkout <dir>', 'read repo, HEAD commit and the refs containing it from this checkout')
    .addHelpText(
      'after',
      example(
        '  provenance report git --from-checkout /workspace\n  provenance report git --repo https://github.com/example/app --commit $COMMIT_SHA --ref refs/heads/main',
      ),
    )
    .action(async (o: Common & { repo?: string; commit?: string; ref?: string[]; fromCheckout?: string }) => {
      if ((o.fromCheckout !== undefined) === (o.repo !== undefined || o.commit !== undefined))
        throw new UsageError('give --from-checkout <dir>, or --repo and --commit');
      const c =
        o.fromCheckout !== undefined
          ? await readCheckout(o.fromCheckout)
          : { repo: o.repo ?? '', commit: o.commit ?? '', refs: o.ref ?? [] };
      await context(o).reporter.report(
        'ReportGit',
        gitBody(c.repo, c.commit, o.fromCheckout !== undefined ? [...new Set([...c.refs, ...(o.ref ?? [])])] : c.refs),
      );
    });

  withCommon(report.command('cipd'))
    .description('report a CIPD package instance the step installed')
    .requiredOption('--package <name>', 'package name, e.g. infra/tools/go/linux-amd64')
    .requiredOption('--instance-id <iid>', 'instance id')
    .option('--tag <key:value>', 'a tag of the instance (repeatable)', collectList)
    .option('--ref <name>', 'a ref pointing at it (repeatable)', collectList)
    .addHelpText(
      'after',
      example(
        '  provenance report cipd --package infra/tools/go/linux-amd64 --instance-id "$IID" --tag version:1.22 --ref latest',
      ),
    )
    .action(async (o: Common & { package: string; instanceId: string; tag?: string[]; ref?: string[] }) => {
      await context(o).reporter.report('ReportCipd', cipdBody(o.package, o.instanceId, o.tag, o.ref));
    });

  withCommon(report.command('gcs'))
    .description('report a Cloud Storage object the step fetched')
    .requiredOption('--uri <gs://bucket/object>', 'the object')
    .requiredOption('--digest <sha256>', 'its sha256 (hex, or sha256:<hex>)')
    .addHelpText(
      'after',
      example(
        '  provenance report gcs --uri gs://my-deps/lib-1.0.tar.gz --digest "sha256:$(sha256sum lib-1.0.tar.gz | cut -d\' \' -f1)"',
      ),
    )
    .action(async (o: Common & { uri: string; digest: string }) => {
      await context(o).reporter.report('ReportGcs', gcsBody(o.uri, o.digest));
    });

  withCommon(report.command('artifact'))
    .description('report an artifact the step produced: its digest (or --file to hash) and where it went')
    .option('--digest <sha256>', "the artifact's sha256")
    .option('--file <path>', 'compute the digest from this file')
    .option('--gcs <uri>', 'uploaded to Cloud Storage')
    .option('--cipd <package>', 'registered as a CIPD package (with --instance-id)')
    .option('--instance-id <iid>', 'the CIPD instance id')
    .option('--oci <image[:tag]>', 'pushed as a container image')
    .option('--sbom-for <sha256>', 'this artifact is an SBOM describing that digest (repeatable)', collectList)
    .addHelpText(
      'after',
      example(
        '  provenance report artifact --file dist/app.tar --gcs gs://my-bucket/releases/app.tar\n  provenance report artifact --digest "$DIGEST" --oci us-docker.pkg.dev/my-project/apps/app:1.2.3',
      ),
    )
    .action(
      async (
        o: Common & {
          digest?: string;
          file?: string;
          gcs?: string;
          cipd?: string;
          instanceId?: string;
          oci?: string;
          sbomFor?: string[];
        },
      ) => {
        if ((o.digest === undefined) === (o.file === undefined))
          throw new UsageError('give exactly one of --digest or --file');
        const places: ArtifactWhere[] = [
          ...(o.gcs !== undefined ? [{ gcs: o.gcs }] : []),
          ...(o.cipd !== undefined ? [{ cipd: o.cipd, instanceId: o.instanceId ?? '' }] : []),
          ...(o.oci !== undefined ? [{ oci: o.oci }] : []),
        ];
        const [where] = places;
        if (!where || places.length !== 1)
          throw new UsageError('give exactly one of --gcs, --cipd (with --instance-id) or --oci');
        let digest = o.digest;
        if (o.file !== undefined) {
          try {
            digest = await sha256File(o.file);
          } catch (err) {
            throw new UsageError(`--file: ${(err as Error).message}`);
          }
        }
        if (digest === undefined) throw new UsageError('give exactly one of --digest or --file');
        await context(o).reporter.report('ReportArtifactDigest', artifactBody(digest, where, o.sbomFor));
      },
    );

  withCommon(report.command('pid'))
    .description("heartbeat: the task's process is alive")
    .requiredOption('--pid <pid>', 'the process id')
    .option('--reporter <path>', 'the reporting executable', process.argv[1] ?? 'provenance')
    .addHelpText('after', example('  provenance report pid --pid $$'))
    .action(async (o: Common & { pid: string; reporter: string }) => {
      await context(o).reporter.report('ReportPID', pidBody(o.pid, o.reporter));
    });

  withCommon(report.command('batch'))
    .description('send many reports from JSON lines: {"method": "ReportGit", ...the API\'s JSON body}')
    .argument('[source]', '"-": read standard input (the default)')
    .option('--file <file>', 'read this file; "-" or no --file: standard input')
    .option('--keep-going', 'send the valid lines even after a malformed one (the command still exits 1)')
    .option('--concurrency <n>', 'reports in flight at once (stage reports go one at a time, in order)', '8')
    .addHelpText(
      'after',
      example(
        '  cat > reports.jsonl <<EOF\n  {"method": "ReportGcs", "gcsReport": {"gcsUri": "gs://deps/a.tar", "digest": "sha256:9f86d0..."}}\n  {"method": "ReportTaskStage", "taskStage": "COMPILE"}\n  EOF\n  provenance report batch --file reports.jsonl',
      ),
    )
    .action(
      async (source: string | undefined, o: Common & { file?: string; keepGoing?: boolean; concurrency: string }) => {
        if (source !== undefined && source !== '-')
          throw new UsageError(`batch: unexpected "${source}": use --file <file>, or - for standard input`);
        const text = o.file === undefined || o.file === '-' ? readFileSync(0) : readFlagFile(o.file, '--file', 'bytes');
        const concurrency = Number(o.concurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
          throw new UsageError('--concurrency: expected 1 to 64');
        process.exitCode = await sendBatch(
          context(o, concurrency).reporter,
          batchItems(text),
          o.keepGoing === true,
          'batch',
        );
      },
    );

  withCommon(program.command('collect'))
    .description('report every artifact listed in the step-outputs folder (JSON lines: image/gcs/cipd + digest)')
    .option('--dir <dir>', `the outputs folder (default: $BUILDER_OUTPUT, else ${DEFAULT_OUTPUTS_DIR})`)
    .addHelpText(
      'after',
      example(
        '  echo \'{"image": "us-docker.pkg.dev/my-project/apps/app:1.2", "digest": "sha256:..."}\' >> $BUILDER_OUTPUT/images.jsonl\n  provenance collect',
      ),
    )
    .action(async (o: Common & { dir?: string }) => {
      process.exitCode = await collectCommand(
        context(o).reporter,
        o.dir ?? process.env.BUILDER_OUTPUT ?? DEFAULT_OUTPUTS_DIR,
      );
    });

  withCommon(program.command('run'))
    .description(
      'run a build command as a task: STARTED, heartbeats while it runs, COMPLETE when it ends; its exit code passes through',
    )
    .option('--recipe <recipe>', "the build's entry point (default: the command line)")
    .option('--heartbeat <duration>', 'how often to send a heartbeat', '30s')
    .option('--config-source-uri <uri>', 'where the build configuration came from')
    .option('--config-source-digest <alg:hex>', 'its digest (repeatable)', collectList)
    .option('--config-source-entry-point <path>', 'the file within it')
    .option('--collect <dir>', 'after the command succeeds, report the artifacts listed in this outputs folder')
    .argument('<command...>', 'the command and its arguments, after --')
    .addHelpText(
      'after',
      example(
        `  provenance run --url ${EXAMPLE_URL} --recipe cloudbuild.yaml --collect /builder/outputs -- make release`,
      ),
    )
    .action(
      async (
        command: string[],
        o: Common & {
          recipe?: string;
          heartbeat: string;
          configSourceUri?: string;
          configSourceDigest?: string[];
          configSourceEntryPoint?: string;
          collect?: string;
        },
      ) => {
        const ctx = context(o);
        process.exitCode = await runWrapped({
          command,
          ...(o.recipe !== undefined ? { recipe: o.recipe } : {}),
          heartbeatMs: duration(o.heartbeat, '--heartbeat'),
          stage: {
            ...(o.configSourceUri ? { configSourceUri: o.configSourceUri } : {}),
            ...(o.configSourceDigest ? { configSourceDigest: o.configSourceDigest } : {}),
            ...(o.configSourceEntryPoint ? { configSourceEntryPoint: o.configSourceEntryPoint } : {}),
          },
          ...(o.collect !== undefined ? { collectDir: o.collect } : {}),
          reporterPath: process.argv[1] ?? 'provenance',
          childEnv: ctx.env,
          reporter: ctx.reporter,
          collect: async (dir) => {
            const code = await collectCommand(ctx.reporter, dir);
            if (code !== EXIT.ok) throw new CliError(`collect ${dir} failed`, code);
          },
        });
      },
    );
}

async function collectCommand(reporter: Reporter, dir: string): Promise<number> {
  const found = collectOutputs(dir);
  if ('missing' in found) {
    process.stderr.write(`collect: no outputs folder at ${dir}: nothing to report\n`);
    return EXIT.ok;
  }
  // An entry that cannot be read fails the command, and hides nothing: the files beside it are reported.
  for (const u of found.unreadable) process.stderr.write(`${u}\n`);
  const unreadable = found.unreadable.length
    ? `; ${found.unreadable.length} entr${found.unreadable.length === 1 ? 'y' : 'ies'} of ${dir} could not be read`
    : '';
  if (found.problems.length) {
    for (const p of found.problems) process.stderr.write(`${p}\n`);
    process.stderr.write(
      `collect: ${found.problems.length} malformed line(s) in ${dir}${unreadable}: nothing was reported\n`,
    );
    return EXIT.refused;
  }
  if (found.items.length === 0) {
    process.stderr.write(
      `collect: ${dir} lists no artifacts (${found.files} file(s) read${unreadable}): nothing to report\n`,
    );
    return unreadable ? EXIT.refused : EXIT.ok;
  }
  if (unreadable) process.stderr.write(`collect: ${unreadable.slice(2)}; reporting the ${found.files} file(s) read\n`);
  const sent = await sendBatch(reporter, found.items, false, 'collect');
  return unreadable ? EXIT.refused : sent;
}

/** JSON lines → batch items; a line that is not a report is an item with its error. */
export function batchItems(text: Uint8Array | string): BatchItem[] {
  return jsonObjectLines(text).map((l): BatchItem => {
    if ('error' in l) return l;
    const { method, ...body } = l.object;
    if (!isMethod(method)) return { line: l.line, error: `"method" must be one of ${METHOD_NAMES.join(', ')}` };
    return { line: l.line, method, body };
  });
}
