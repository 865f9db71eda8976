// Offline proof of infra/*.tf (nothing here can reach a cloud): every file is
// parsed with HashiCorp's HCL parser (@cdktf/hcl2json, the Go parser built to
// WebAssembly) and checked: every referenced variable, local, resource and
// data source is declared; the functions' entry points are the names the code
// registers, with the right signature type, on nodejs24; every variable has a
// description, a type and (where it takes free input) a validation; every
// environment variable the code reads is set by Terraform or deliberately left
// to its default, and none set is unused. A .tf change that breaks any of
// these fails CI.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

const root = join(__dirname, '..', '..', '..');
const infra = join(root, 'infra');

type Block = Record<string, unknown>;
type Schema = { [name: string]: true | Schema };
interface Parsed {
  variable?: Record<string, Block[]>;
  locals?: Block[];
  resource?: Record<string, Record<string, Block[]>>;
  data?: Record<string, Record<string, Block[]>>;
  output?: Record<string, Block[]>;
}

/** Variables the code reads that Terraform deliberately leaves to their defaults, and why. */
const LEFT_TO_DEFAULT: Record<string, string> = {
  PORT: 'npm start only (Cloud Run sets PORT itself)',
  AUTH_MODE: 'google is the default: Google-signed ID tokens',
  DEV_ISSUER_DIR: 'AUTH_MODE=dev only',
  SIGNING_KEY_DIR: 'the local signer (AUTH_MODE=dev) only',
  TASK_STORE: 'firestore is the default',
  KMS_EMULATOR_HOST: 'tests only',
  PID_REPORTER_ALLOWLIST: 'empty: any reporter executable',
  MAX_CLOCK_SKEW_SECONDS: 'the default 600 s',
  TOKEN_CLOCK_SKEW_SECONDS: 'the default 30 s',
  HEARTBEAT_TTL_SECONDS: 'the default 300 s',
  SWEEP_INTERVAL_SECONDS: 'npm start only (deployed: the scheduler job)',
  RECOVERY_MAX_ATTEMPTS: 'the default 5',
  SWEEP_MAX_TASKS: 'the default 2000',
  SWEEP_CONCURRENCY: 'the default 8',
  TASK_RETENTION_DAYS: 'the default: kept forever',
  PROVENANCE_RETENTION_DAYS: 'the default: kept forever (signed provenance does not expire)',
  HTTP_REQUEST_TIMEOUT_SECONDS: 'npm start only (Cloud Run has its own)',
  HTTP_HEADERS_TIMEOUT_SECONDS: 'npm start only',
  HTTP_IDLE_TIMEOUT_SECONDS: 'npm start only',
  HTTP_MAX_HEADER_BYTES: 'npm start only',
  OCI_ATTACH: 'deprecated: Terraform maps oci_attach into PUBLISH_TO',
  PUBLISH_DEADLINE_SECONDS: 'the default 30 s',
  CIPD_INSECURE_LOOPBACK: 'tests only (plain HTTP to a CIPD stand-in on loopback)',
};

/** Variables Terraform sets for the platform, not for our code, and why. */
const READ_BY_THE_PLATFORM: Record<string, string> = {
  LOG_EXECUTION_ID: "functions-framework adds each execution's id to every log line",
};

describe('infra/*.tf, checked offline', () => {
  const files: Record<string, Parsed> = {};
  let text = '';

  before(async () => {
    for (const name of readdirSync(infra)
      .filter((f) => f.endsWith('.tf'))
      .sort()) {
      const source = readFileSync(join(infra, name), 'utf8');
      files[name] = (await parse(name, source)) as Parsed;
      text += `${JSON.stringify(files[name])}\n`;
    }
  });

  const all = <K extends keyof Parsed>(key: K): NonNullable<Parsed[K]>[] =>
    Object.values(files)
      .map((f) => f[key])
      .filter((x): x is NonNullable<Parsed[K]> => x !== undefined);

  it('parses every file, and declares what every reference names', () => {
    assert.ok(Object.keys(files).length >= 4, `parsed ${Object.keys(files)}`);
    const variables = new Set(all('variable').flatMap((v) => Object.keys(v)));
    const locals = new Set(all('locals').flatMap((blocks) => blocks.flatMap((b) => Object.keys(b))));
    const resources = new Set(
      all('resource').flatMap((byType) =>
        Object.entries(byType).flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`)),
      ),
    );
    const data = new Set(
      all('data').flatMap((byType) =>
        Object.entries(byType).flatMap(([type, byName]) => Object.keys(byName).map((n) => `${type}.${n}`)),
      ),
    );
    const missing: string[] = [];
    for (const m of text.matchAll(/\bvar\.([a-z_][a-z0-9_]*)/g)) if (!variables.has(m[1]!)) missing.push(`var.${m[1]}`);
    for (const m of text.matchAll(/\blocal\.([a-z_][a-z0-9_]*)/g))
      if (!locals.has(m[1]!)) missing.push(`local.${m[1]}`);
    for (const m of text.matchAll(/\bdata\.([a-z0-9_]+)\.([a-z0-9_]+)/g))
      if (!data.has(`${m[1]}.${m[2]}`)) missing.push(`data.${m[1]}.${m[2]}`);
    for (const m of text.matchAll(/(?<![.\w/-])(google_[a-z0-9_]+)\.([a-z_][a-z0-9_]*)\b/g)) {
      if (!resources.has(`${m[1]}.${m[2]}`)) missing.push(`${m[1]}.${m[2]}`);
    }
    assert.deepEqual([...new Set(missing)], [], 'references to undeclared names');
    for (const [name, [v]] of Object.entries(Object.assign({}, ...all('variable')) as Record<string, Block[]>)) {
      assert.ok(
        typeof v!.description === 'string' && (v!.description as string).length > 10,
        `variable ${name} has no description`,
      );
      assert.ok(v!.type, `variable ${name} has no type`);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an HCL interpolation, as the HCL parser reports the type
      if (v!.type !== '${bool}')
        assert.ok(
          Array.isArray(v!.validation) && (v!.validation as unknown[]).length > 0,
          `variable ${name} has no validation`,
        );
    }
    for (const [name, [o]] of Object.entries(Object.assign({}, ...all('output')) as Record<string, Block[]>)) {
      assert.ok(typeof o!.description === 'string', `output ${name} has no description`);
    }
  });

  it('deploys every function the code registers, under its own name and signature, on nodejs24', () => {
    const registered = new Map<string, string>();
    for (const f of readdirSync(join(root, 'functions', 'entry'))) {
      const src = readFileSync(join(root, 'functions', 'entry', f), 'utf8');
      for (const m of src.matchAll(/\b(http|cloudEvent)\('([A-Za-z]+)'/g))
        registered.set(m[2]!, m[1] === 'http' ? 'http' : 'cloudevent');
    }
    const localsText = JSON.stringify(all('locals'));
    const declared = new Map(
      [...localsText.matchAll(/"([A-Za-z]+)":\{"sa":"[a-z]+","signature":"(http|cloudevent)"\}/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    assert.deepEqual([...declared.entries()].sort(), [...registered.entries()].sort());
    const fn = files['main.tf']!.resource!.google_cloudfunctions2_function!.fn![0]! as {
      build_config: { runtime: string; entry_point: string }[];
    };
    assert.equal(fn.build_config[0]!.runtime, 'nodejs24');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an HCL interpolation in the parsed main.tf
    assert.equal(fn.build_config[0]!.entry_point, '${each.key}');
  });

  it('sets every environment variable the code reads (or leaves it to a stated default), and none it does not read', () => {
    const read = new Set(
      [
        ...readFileSync(join(root, 'functions', 'config.ts'), 'utf8').matchAll(/env(?:\.|\['|, ')([A-Z][A-Z0-9_]+)/g),
      ].map((m) => m[1]!),
    );
    read.add('GOOGLE_CLOUD_PROJECT');
    for (const n of Object.keys(READ_BY_THE_PLATFORM)) read.add(n);
    // In HCL, an upper-case attribute name is an environment variable (common_env and each function's).
    const source = readdirSync(infra)
      .filter((f) => f.endsWith('.tf'))
      .map((f) => readFileSync(join(infra, f), 'utf8'))
      .join('\n');
    const set = new Set([...source.matchAll(/^\s*([A-Z][A-Z0-9_]{2,})\s*=/gm)].map((m) => m[1]!));
    assert.ok(set.size >= 10, `found ${[...set]}`);
    const unused = [...set].filter((n) => !read.has(n));
    assert.deepEqual(unused, [], 'set by Terraform but read by no code');
    for (const n of Object.keys(READ_BY_THE_PLATFORM)) assert.ok(set.has(n), `Terraform does not set ${n}`);
    const unset = [...read].filter((n) => !set.has(n) && !(n in LEFT_TO_DEFAULT));
    assert.deepEqual(unset, [], 'read by the code but neither set by Terraform nor in LEFT_TO_DEFAULT');
    for (const n of Object.keys(LEFT_TO_DEFAULT))
      assert.ok(read.has(n), `LEFT_TO_DEFAULT names ${n}, which the code does not read`);
  });

  it('takes the Firestore indexes and TTL policies from firestore.indexes.json, one source of truth', () => {
    assert.match(text, /jsondecode\(file\(\\"\$\{path\.module\}\/firestore\.indexes\.json\\"\)\)/);
    assert.ok(
      !/aliveAt|recoverAt|expireAt|subjects/.test(JSON.stringify(files['main.tf']!.resource!.google_firestore_field)),
      'no field is named in Terraform itself',
    );
  });

  it('grants each service account exactly the roles of the table in docs/security.md', () => {
    const table = new Set(
      [
        ...readFileSync(join(root, 'docs', 'security.md'), 'utf8').matchAll(
          /^\| (report|assembler|reader|sweeper|pusher) \| (roles\/[\w.]+) \| ([^|]+?) \|$/gm,
        ),
      ].map((m) => `${m[1]} ${m[2]} ${m[3]}`),
    );
    assert.ok(table.size >= 10, `read ${table.size} rows from the table`);
    const r = files['main.tf']!.resource! as Record<string, Record<string, Record<string, unknown>[]>>;
    const saOf = (member: unknown) => /google_service_account\.sa\["?(\w+)"?\]/.exec(String(member))?.[1];
    const topics: Record<string, string> = {
      upload_complete: 'upload-complete',
      events: 'provenance-events',
      sweep: 'sweep',
      dead_letter: 'dead-letter',
    };
    const granted = new Set<string>();
    for (const blocks of Object.values(r.google_project_iam_member ?? {})) {
      for (const b of blocks)
        for (const sa of [...String(b.for_each).matchAll(/\\?"(\w+)\\?"/g)].map((m) => m[1]!))
          granted.add(`${sa} ${b.role} project`);
    }
    for (const b of r.google_pubsub_topic_iam_member?.publishers ?? []) {
      for (const e of Object.values(b.for_each as Record<string, { topic: string; sa: string }>))
        granted.add(`${e.sa} ${b.role} topic ${topics[/google_pubsub_topic\.(\w+)/.exec(e.topic)![1]!]}`);
    }
    // Publishing: per repository and per bucket on the allowlists, never project-wide.
    const perResource: [string, string][] = [
      ['google_artifact_registry_repository_iam_member', 'each repository in oci_registries'],
      ['google_storage_bucket_iam_member', 'each bucket in gcs_buckets'],
    ];
    for (const [type, on] of perResource)
      for (const blocks of Object.values(r[type] ?? {}))
        for (const b of blocks) {
          assert.match(String(b.member), /google_service_account\.sa\[each\.value\.sa\]/);
          for (const sa of [...String(b.for_each).matchAll(/\["(\w+)", "(\w+)"\]/g)].flatMap((m) => [m[1]!, m[2]!]))
            granted.add(`${sa} ${b.role} ${on}`);
        }
    for (const [, blocks] of Object.entries(r.google_kms_crypto_key_iam_member ?? {}))
      for (const b of blocks) granted.add(`${saOf(b.member)} ${b.role} key provenance-signing`);
    const locals = JSON.stringify(all('locals'));
    for (const m of locals.matchAll(
      /for fn in \[([^\]]+)\] : .*?member = google_service_account\.sa\[\\"(\w+)\\"\]\.member/g,
    )) {
      for (const fn of [...m[1]!.matchAll(/\\"(\w+)\\"/g)].map((x) => x[1]!))
        granted.add(`${m[2]} roles/run.invoker function ${fn}`);
    }
    assert.deepEqual([...granted].sort(), [...table].sort());
  });

  it('grants the deploy gate (binauthz.tf) exactly the roles of its table in docs/security.md, only with binauthz_gate', () => {
    const table = new Set(
      [
        ...readFileSync(join(root, 'docs', 'security.md'), 'utf8').matchAll(
          /^\| (gate) \| (roles\/[\w.]+) \| ([^|]+?) \|$/gm,
        ),
      ].map((m) => `${m[1]} ${m[2]} ${m[3]}`),
    );
    assert.ok(table.size >= 4, `read ${table.size} gate rows`);
    const r = files['binauthz.tf']!.resource! as Record<string, Record<string, Record<string, unknown>[]>>;
    const on: Record<string, string> = {
      google_kms_crypto_key_iam_member: 'key binauthz-attestor',
      google_container_analysis_note_iam_member: 'note provenance-gate',
      google_project_iam_member: 'project',
      google_binary_authorization_attestor_iam_member: 'attestor provenance-gate',
    };
    const granted = new Set<string>();
    for (const [type, byName] of Object.entries(r)) {
      if (!type.endsWith('_iam_member')) continue;
      assert.ok(on[type], `${type}: a grant the test does not know`);
      for (const b of Object.values(byName).flat()) {
        assert.match(String(b.member), /google_service_account\.gate\[/, `${type}: granted to the gate only`);
        granted.add(`gate ${b.role} ${on[type]}`);
      }
    }
    assert.deepEqual([...granted].sort(), [...table].sort());
    // Everything in the file exists only with binauthz_gate = true.
    for (const [type, byName] of Object.entries(r))
      for (const [name, [b]] of Object.entries(byName))
        assert.match(
          String(b!.for_each),
          /local\.gate|var\.binauthz_gate/,
          `${type}.${name} is not behind binauthz_gate`,
        );
    assert.match(JSON.stringify(files['binauthz.tf']!.locals), /var\.binauthz_gate/);
    const key = r.google_kms_crypto_key!.gate![0]! as { version_template: { algorithm: string }[]; purpose: string };
    assert.equal(key.purpose, 'ASYMMETRIC_SIGN');
    assert.equal(key.version_template[0]!.algorithm, 'EC_SIGN_P256_SHA256');
  });

  it('uses only resource types, arguments and blocks that the pinned google provider has', () => {
    // infra/schema/google-provider.json: extracted from @cdktf/provider-google by scripts/extract-provider-schema.js.
    const schema = JSON.parse(readFileSync(join(infra, 'schema', 'google-provider.json'), 'utf8')) as {
      version: string;
      resource: Record<string, Schema>;
      data: Record<string, Schema>;
    };
    assert.match(
      readFileSync(join(infra, 'versions.tf'), 'utf8'),
      new RegExp(`version = "${schema.version.replace(/\./g, '\\.')}"`),
      'the schema is of the pinned provider version',
    );
    const META = new Set(['for_each', 'count', 'depends_on', 'provider', 'lifecycle']);
    const problems: string[] = [];
    const check = (where: string, block: Block, s: Schema) => {
      for (const [key, value] of Object.entries(block)) {
        if (META.has(key)) continue;
        if (key === 'dynamic') {
          for (const [name, [dyn]] of Object.entries(value as Record<string, Block[]>)) {
            const inner = s[name];
            if (typeof inner !== 'object') problems.push(`${where}: no block "${name}"`);
            else for (const c of (dyn!.content as Block[]) ?? []) check(`${where}.${name}`, c, inner);
          }
          continue;
        }
        if (!(key in s)) {
          problems.push(`${where}: no argument or block "${key}"`);
          continue;
        }
        const inner = s[key];
        if (typeof inner === 'object' && Array.isArray(value))
          for (const v of value as Block[]) check(`${where}.${key}`, v, inner);
      }
    };
    for (const kind of ['resource', 'data'] as const) {
      for (const byType of all(kind)) {
        for (const [type, byName] of Object.entries(byType)) {
          const s = schema[kind][type];
          if (!s) {
            problems.push(
              `${kind} ${type} is not in infra/schema/google-provider.json: re-run node scripts/extract-provider-schema.js`,
            );
            continue;
          }
          for (const [name, blocks] of Object.entries(byName)) for (const b of blocks) check(`${type}.${name}`, b, s);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('keeps the signing key from being destroyed', () => {
    const key = files['main.tf']!.resource!.google_kms_crypto_key!.signing![0]! as {
      lifecycle: { prevent_destroy: boolean }[];
    };
    assert.equal(key.lifecycle[0]!.prevent_destroy, true);
  });
});
