// The policy file a release team commits next to its deploy config: what a
// deploy gate requires of an artifact's provenance, read into the same typed
// VerificationPolicy the `verify` flags build (one engine applies both).
// YAML or JSON (JSON is YAML: one parser). Every problem is reported with its
// line and column and the field it is about; nothing here throws on bad input
// and nothing does I/O (keys are only named here; the CLI reads or fetches them).
// The JSON Schema for editors, schemas/policy-v1.schema.json, describes the same
// format; test/unit/policy-file.test.ts keeps the two in step.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { printable } from '../provenance/verify.js';
import type { ConfigSourceRule, SourceRule, VerificationPolicy } from './policy.js';
import { repositoryKey } from './repository.js';

export const POLICY_API_VERSION = 'build-provenance/policy/v1';
/** Policy files are small; a larger one is a mistake or an attack on the parser. */
export const MAX_POLICY_BYTES = 256 * 1024;

/** Where the trusted keys come from: a PEM file, a key-set file (GET /v1/keys JSON), or a key-set URL. */
export type KeySource =
  | { kind: 'pem'; path: string; at: Position }
  | { kind: 'keySet'; path: string; at: Position }
  | { kind: 'url'; url: string; at: Position };

export interface Position {
  line: number;
  col: number;
}

/** The policy a file states, minus the artifact's digest (given when verifying). */
export type FilePolicy = Omit<VerificationPolicy, 'expectedDigest'>;

export interface PolicyFile {
  apiVersion: typeof POLICY_API_VERSION;
  keys: KeySource[];
  policy: FilePolicy;
  /** Where each field (and list item: "subjects[1]") starts, so a later failure can point at the file. */
  positions: Record<string, Position>;
}

export interface PolicyProblem extends Position {
  /** The field, as a path: "keys", "sources[0].refs". */
  field: string;
  message: string;
}

/** "policy.yaml:5:3: sources[0].refs: is a string, not a list" */
export function formatProblem(file: string, p: PolicyProblem): string {
  return `${file}:${p.line}:${p.col}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

const FIELDS = [
  '$schema',
  'apiVersion',
  'keys',
  'builderIds',
  'reporters',
  'sources',
  'configSources',
  'refuseFindings',
  'maxAge',
  'subjects',
] as const;

/** Reads a policy file's text; every problem found, in file order, or the policy. */
export function parsePolicyFile(text: string): { policy: PolicyFile } | { problems: PolicyProblem[] } {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES)
    return { problems: [{ field: '', line: 1, col: 1, message: `the file is larger than ${MAX_POLICY_BYTES} bytes` }] };
  const lines = new LineCounter();
  // core schema: "on"/"yes" stay strings; uniqueKeys: a duplicated field is an error, never "last wins".
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, schema: 'core' });
  const posOf = (offset: number | undefined): Position => {
    const p = lines.linePos(offset ?? 0);
    return { line: p.line, col: p.col };
  };
  const problems: PolicyProblem[] = [];
  for (const e of doc.errors) {
    if (e.code === 'DUPLICATE_KEY') {
      const name =
        /^[^:\n]*/
          .exec(text.slice(e.pos[0]))?.[0]
          .trim()
          .replace(/^["']|["']$/g, '') ?? '';
      problems.push({ field: printable(name), ...posOf(e.pos[0]), message: 'is given twice (state each field once)' });
    } else problems.push({ field: '', ...posOf(e.pos[0]), message: printable(e.message.split('\n')[0] ?? e.message) });
  }
  if (problems.length) return { problems };

  const positions: Record<string, Position> = {};
  const at = (node: YamlNode | null | undefined, fallback: Position): Position =>
    node?.range ? posOf(node.range[0]) : fallback;
  const fail = (field: string, where: Position, message: string) => problems.push({ field, ...where, message });

  const root = doc.contents;
  const top = at(root, { line: 1, col: 1 });
  if (!isMap(root)) {
    fail('', top, `the policy is ${describe(root)}, not a mapping of fields (apiVersion, keys, …)`);
    return { problems };
  }
  const fields = new Map<string, { node: YamlNode | null; at: Position }>();
  for (const pair of root.items) {
    const keyNode = pair.key as YamlNode | null;
    const where = at(keyNode, top);
    const name = isScalar(keyNode) ? keyNode.value : undefined;
    if (typeof name !== 'string') {
      fail('', where, 'a field name must be a string');
      continue;
    }
    if (!(FIELDS as readonly string[]).includes(name)) {
      fail(printable(name), where, `unknown field (the fields are ${FIELDS.join(', ')})`);
      continue;
    }
    const value = pair.value as YamlNode | null;
    fields.set(name, { node: value, at: at(value, where) });
    positions[name] = where;
  }

  // Scalars and lists of scalars, typed; each returns undefined after reporting its problem.
  const str = (field: string, node: YamlNode | null, where: Position): string | undefined => {
    if (!isScalar(node) || typeof node.value !== 'string') {
      fail(field, where, `is ${describe(node)}, not a string`);
      return undefined;
    }
    // A custom tag (!x) would be read as a plain string by this parser and maybe not by another tool.
    if (node.tag !== undefined && node.tag !== 'tag:yaml.org,2002:str') {
      fail(field, where, `has the tag ${printable(node.tag)}, which this format does not use`);
      return undefined;
    }
    if (node.value.trim() === '') {
      fail(field, where, 'is empty');
      return undefined;
    }
    return node.value;
  };
  const list = <T>(
    field: string,
    entry: { node: YamlNode | null; at: Position },
    item: (field: string, node: YamlNode | null, where: Position) => T | undefined,
  ): T[] | undefined => {
    const { node } = entry;
    if (!isSeq(node)) {
      fail(field, entry.at, `is ${describe(node)}, not a list`);
      return undefined;
    }
    if (node.tag !== undefined && node.tag !== 'tag:yaml.org,2002:seq') {
      fail(field, entry.at, `has the tag ${printable(node.tag)}, which this format does not use`);
      return undefined;
    }
    if (node.items.length === 0) {
      fail(field, entry.at, 'is an empty list (leave the field out to allow any)');
      return undefined;
    }
    const out: T[] = [];
    let bad = false;
    node.items.forEach((n, i) => {
      const f = `${field}[${i}]`;
      const where = at(n as YamlNode, entry.at);
      positions[f] = where;
      const v = item(f, n as YamlNode, where);
      if (v === undefined) bad = true;
      else out.push(v);
    });
    return bad ? undefined : out;
  };
  // A mapping with only the given fields; returns each field's node (or undefined when the mapping is wrong).
  const record = (
    field: string,
    node: YamlNode | null,
    where: Position,
    allowed: readonly string[],
  ): Map<string, { node: YamlNode | null; at: Position }> | undefined => {
    if (!isMap(node)) {
      fail(field, where, `is ${describe(node)}, not a mapping (${allowed.join(', ')})`);
      return undefined;
    }
    if (node.tag !== undefined && node.tag !== 'tag:yaml.org,2002:map') {
      fail(field, where, `has the tag ${printable(node.tag)}, which this format does not use`);
      return undefined;
    }
    const out = new Map<string, { node: YamlNode | null; at: Position }>();
    let bad = false;
    for (const pair of node.items) {
      const k = pair.key as YamlNode | null;
      const name = isScalar(k) ? k.value : undefined;
      const kAt = at(k, where);
      if (typeof name !== 'string' || !allowed.includes(name)) {
        fail(`${field}.${printable(String(name))}`, kAt, `unknown field (allowed here: ${allowed.join(', ')})`);
        bad = true;
        continue;
      }
      out.set(name, { node: pair.value as YamlNode | null, at: at(pair.value as YamlNode | null, kAt) });
    }
    return bad ? undefined : out;
  };

  const apiVersion = fields.get('apiVersion');
  if (!apiVersion) fail('apiVersion', top, `is missing (write apiVersion: ${POLICY_API_VERSION})`);
  else {
    const v = str('apiVersion', apiVersion.node, apiVersion.at);
    if (v !== undefined && v !== POLICY_API_VERSION)
      fail('apiVersion', apiVersion.at, `"${printable(v)}" is not a version this tool reads (${POLICY_API_VERSION})`);
  }

  let keys: KeySource[] | undefined;
  const keysEntry = fields.get('keys');
  if (!keysEntry) fail('keys', top, 'is missing: a policy names the keys it trusts (pem, keySet or url)');
  else {
    const { node } = keysEntry;
    if (isSeq(node) && node.items.length === 0) fail('keys', keysEntry.at, 'is empty: a policy must trust some key');
    else
      keys = list('keys', keysEntry, (f, n, where) => {
        const r = record(f, n, where, ['pem', 'keySet', 'url']);
        if (!r) return undefined;
        if (r.size !== 1) {
          fail(f, where, 'give exactly one of pem (a PEM file), keySet (a GET /v1/keys file) or url (a key-set URL)');
          return undefined;
        }
        const [kind, v] = [...r][0] ?? ['', { node: null, at: where }];
        const value = str(`${f}.${kind}`, v.node, v.at);
        if (value === undefined) return undefined;
        if (kind === 'url') {
          const problem = keySetUrlProblem(value);
          if (problem) {
            fail(`${f}.url`, v.at, problem);
            return undefined;
          }
          return { kind: 'url', url: value, at: where };
        }
        return { kind: kind === 'pem' ? 'pem' : 'keySet', path: value, at: where };
      });
  }

  // The same rule as the flags': a repository URL (https, http, ssh or git, with or without git+).
  const repository = (field: string, node: YamlNode | null, where: Position): string | undefined => {
    const v = str(field, node, where);
    if (v === undefined || repositoryKey(v) !== undefined) return v;
    fail(field, where, `"${printable(v)}" is not a repository URL (e.g. https://github.com/example/app)`);
    return undefined;
  };

  const policy: FilePolicy = {};
  const strings = (name: (typeof FIELDS)[number], check?: (v: string) => string | undefined) => {
    const e = fields.get(name);
    if (!e) return undefined;
    return list(name, e, (f, n, where) => {
      const v = str(f, n, where);
      if (v === undefined) return undefined;
      const problem = check?.(v);
      if (problem) {
        fail(f, where, problem);
        return undefined;
      }
      return v;
    });
  };
  const builderIds = strings('builderIds');
  if (builderIds) policy.expectedBuilderIds = builderIds;
  const reporters = strings('reporters', (v) =>
    /^[^\s@]+@[^\s@]+$/.test(v) ? undefined : `"${printable(v)}" is not an email address`,
  );
  if (reporters) policy.expectedReporters = reporters;
  const refused = strings('refuseFindings', (v) =>
    /^[A-Za-z0-9_.-]+$/.test(v) ? undefined : `"${printable(v)}" is not a finding code (e.g. FETCH_AFTER_COMPILE)`,
  );
  // An editor's schema pointer (JSON policies): allowed, and only a string.
  const schemaEntry = fields.get('$schema');
  if (schemaEntry) str('$schema', schemaEntry.node, schemaEntry.at);
  if (refused) policy.refusedFindings = refused;
  const subjects = strings('subjects', subjectPatternProblem);
  if (subjects) policy.subjectPatterns = subjects;

  const sourcesEntry = fields.get('sources');
  if (sourcesEntry) {
    const sources = list('sources', sourcesEntry, (f, n, where): SourceRule | undefined => {
      const r = record(f, n, where, ['repository', 'refs']);
      if (!r) return undefined;
      const repo = r.get('repository');
      if (!repo) {
        fail(`${f}.repository`, where, 'is missing');
        return undefined;
      }
      const uri = repository(`${f}.repository`, repo.node, repo.at);
      const refsEntry = r.get('refs');
      const refs = refsEntry
        ? list(`${f}.refs`, refsEntry, (rf, rn, rw) => {
            const ref = str(rf, rn, rw);
            if (ref === undefined || /^refs\/\S+$/.test(ref)) return ref;
            fail(rf, rw, `"${printable(ref)}" is not a full ref name (refs/heads/<branch> or refs/tags/<tag>)`);
            return undefined;
          })
        : undefined;
      if (uri === undefined || (refsEntry && refs === undefined)) return undefined;
      return { uri, ...(refs ? { refs } : {}) };
    });
    if (sources) policy.expectedSources = sources;
  }

  const configEntry = fields.get('configSources');
  if (configEntry) {
    const configs = list('configSources', configEntry, (f, n, where): ConfigSourceRule | undefined => {
      const r = record(f, n, where, ['uri', 'entryPoint']);
      if (!r) return undefined;
      const u = r.get('uri');
      if (!u) {
        fail(`${f}.uri`, where, 'is missing');
        return undefined;
      }
      const uri = repository(`${f}.uri`, u.node, u.at);
      const ep = r.get('entryPoint');
      const entryPoint = ep ? str(`${f}.entryPoint`, ep.node, ep.at) : undefined;
      if (uri === undefined || (ep && entryPoint === undefined)) return undefined;
      return { uri, ...(entryPoint !== undefined ? { entryPoint } : {}) };
    });
    if (configs) policy.expectedConfigSources = configs;
  }

  const maxAge = fields.get('maxAge');
  if (maxAge) {
    const seconds = durationSeconds(maxAge.node);
    if (typeof seconds === 'string') fail('maxAge', maxAge.at, seconds);
    else policy.maxAgeSeconds = seconds;
  }

  if (problems.length || !keys) return { problems: problems.sort((a, b) => a.line - b.line || a.col - b.col) };
  return { policy: { apiVersion: POLICY_API_VERSION, keys, policy, positions } };
}

/** Why a key-set URL will not be fetched: only https, or http to this machine (npm start). */
export function keySetUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${printable(value)}" is not a URL`;
  }
  if (url.username || url.password) return 'a key-set URL must not carry credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return undefined;
  return `"${printable(value)}": keys are fetched over https only (http only from localhost)`;
}

/**
 * Why a subject pattern can match no subject name (undefined: it can). Glob:
 * `*` within one path segment, `**` across segments (only as a whole segment).
 */
export function subjectPatternProblem(pattern: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: subject names never hold control characters or spaces
  if (/[\s\u0000-\u001f\u007f]/.test(pattern))
    return `"${printable(pattern)}" matches no subject name: subject names hold no spaces or control characters`;
  if (/\*\*\*/.test(pattern)) return `"${printable(pattern)}" matches no subject name: "***" is not a glob`;
  for (const segment of pattern.split('/'))
    if (segment.includes('**') && segment !== '**')
      return `"${printable(pattern)}" matches no subject name: "**" stands for whole segments ("a/**/b"), not part of one`;
  if (pattern.endsWith('/')) return `"${printable(pattern)}" matches no subject name: none ends with "/"`;
  return undefined;
}

/** "30d", "12h", "90m", "3600s" or a whole number of seconds → seconds, else the problem. */
function durationSeconds(node: YamlNode | null): number | string {
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v > 0) return v;
    return `${v} is not a positive whole number of seconds`;
  }
  if (typeof v !== 'string') return `is ${describe(node)}, not a duration (e.g. 30d, 12h, 90m, 3600s)`;
  const m = /^([1-9][0-9]{0,9})(s|m|h|d)$/.exec(v);
  if (!m) return `"${printable(v)}" is not a duration (e.g. 30d, 12h, 90m, 3600s)`;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function describe(node: YamlNode | null | undefined): string {
  if (node === null || node === undefined) return 'empty';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'empty';
    return typeof v === 'string' ? 'a string' : `a ${typeof v} (${printable(String(v), 40)})`;
  }
  return 'an alias or tag this format does not use';
}
