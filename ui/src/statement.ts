// What the pages show of a statement (docs/buildtype-v1.md), read defensively:
// the payload is JSON of any shape, so every field is checked before use and
// missing ones are left out rather than thrown on.
import { strictBase64 } from './verify';

export interface Dependency {
  kind: 'git' | 'cipd' | 'gcs' | 'other';
  /** What the row names: the repository, package or object. */
  name: string;
  uri: string;
  /** "alg:hex" pairs. */
  digest: string;
  /** refs and tags, joined. */
  labels: string;
  /** Lower-cased text of the row, for filtering. */
  haystack: string;
}

export interface Finding {
  code: string;
  message: string;
  at: string;
}

export interface Provenance {
  subjects: { name: string; sha256: string }[];
  sources: { repo: string; commit: string; refs: string[] }[];
  dependencies: Dependency[];
  recipe?: string;
  configSource?: { uri: string; digest: string; entryPoint?: string };
  builderId?: string;
  reporter?: string;
  taskId?: string;
  startedOn?: string;
  finishedOn?: string;
  stages: { stage: string; at: string }[];
  findings: Finding[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');

function digestText(v: unknown): string {
  return Object.entries(obj(v))
    .filter(([, x]) => typeof x === 'string')
    .map(([alg, x]) => `${alg}:${x as string}`)
    .join(' ');
}

function kindOf(uri: string): Dependency['kind'] {
  if (uri.startsWith('git+')) return 'git';
  if (uri.startsWith('cipd://')) return 'cipd';
  if (uri.startsWith('gs://')) return 'gcs';
  return 'other';
}

function inlineJson(byproducts: unknown[], name: string): Obj {
  const b = byproducts.map(obj).find((x) => x.name === name);
  const content = str(b?.content);
  const bytes = content ? strictBase64(content) : undefined;
  if (!bytes) return {};
  try {
    return obj(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    return {};
  }
}

export function readProvenance(statement: unknown): Provenance {
  const s = obj(statement);
  const predicate = obj(s.predicate);
  const def = obj(predicate.buildDefinition);
  const run = obj(predicate.runDetails);
  const meta = obj(run.metadata);
  const ext = obj(def.externalParameters);
  const cfg = obj(ext.configSource);
  const byproducts = list(run.byproducts);

  const dependencies = list(def.resolvedDependencies).map((d): Dependency => {
    const o = obj(d);
    const uri = str(o.uri) ?? '';
    const kind = kindOf(uri);
    const ann = obj(o.annotations);
    const name = kind === 'git' ? uri.slice(4) : (str(o.name) ?? uri);
    const digest = digestText(o.digest);
    const labels = [...strs(ann.refs), ...strs(ann.tags)].join(' ');
    return { kind, name, uri, digest, labels, haystack: `${name}\n${uri}\n${digest}\n${labels}`.toLowerCase() };
  });
  const sources = list(def.resolvedDependencies)
    .map(obj)
    .filter((o) => str(o.uri)?.startsWith('git+'))
    .map((o) => ({
      repo: (str(o.uri) ?? '').slice(4),
      commit: str(obj(o.digest).gitCommit) ?? '',
      refs: strs(obj(o.annotations).refs),
    }));
  const findings = list(inlineJson(byproducts, 'findings').findings)
    .map(obj)
    .map((f) => ({ code: str(f.code) ?? '?', message: str(f.message) ?? '', at: str(f.at) ?? '' }));
  const stages = list(inlineJson(byproducts, 'stage-timeline').stages)
    .map(obj)
    .map((t) => ({ stage: str(t.stage) ?? '?', at: str(t.at) ?? '' }));

  const opt = <K extends string>(key: K, v: string | undefined) => (v !== undefined ? { [key]: v } : {});
  return {
    subjects: list(s.subject)
      .map(obj)
      .map((x) => ({ name: str(x.name) ?? '', sha256: str(obj(x.digest).sha256) ?? '' })),
    sources,
    dependencies,
    ...opt('recipe', str(ext.recipe)),
    ...(str(cfg.uri)
      ? {
          configSource: {
            uri: str(cfg.uri) ?? '',
            digest: digestText(cfg.digest),
            ...opt('entryPoint', str(cfg.entryPoint)),
          },
        }
      : {}),
    ...opt('builderId', str(obj(run.builder).id)),
    ...opt('reporter', str(obj(def.internalParameters).reporter)),
    ...opt('taskId', str(meta.invocationId)),
    ...opt('startedOn', str(meta.startedOn)),
    ...opt('finishedOn', str(meta.finishedOn)),
    stages,
    findings,
  };
}
