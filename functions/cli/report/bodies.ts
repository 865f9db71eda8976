// Command-line flags → SelfReport JSON bodies (proto3 JSON, as the API takes
// them). Pure; the bodies are checked by methods.ts before anything is sent.
import { UsageError } from '../exit-codes.js';

export interface StageFlags {
  recipe?: string;
  pid?: string | number;
  configSourceUri?: string;
  configSourceDigest?: string[];
  configSourceEntryPoint?: string;
}

export function stageBody(stage: string, f: StageFlags): object {
  const digest = Object.fromEntries(
    (f.configSourceDigest ?? []).map((d) => splitPair(d, ':', '--config-source-digest', 'alg:hex')),
  );
  const configSource =
    f.configSourceUri !== undefined || f.configSourceEntryPoint !== undefined || Object.keys(digest).length
      ? {
          uri: f.configSourceUri ?? '',
          ...(Object.keys(digest).length ? { digest } : {}),
          ...(f.configSourceEntryPoint ? { entryPoint: f.configSourceEntryPoint } : {}),
        }
      : undefined;
  return {
    taskStage: stage.toUpperCase(),
    ...(f.recipe !== undefined ? { recipe: f.recipe } : {}),
    ...(f.pid !== undefined ? { pid: String(f.pid) } : {}),
    ...(configSource ? { configSource } : {}),
  };
}

export const gitBody = (repo: string, commit: string, refs: string[] = []) => ({
  gitReport: { repo, commit, ...(refs.length ? { refs: refs.join(',') } : {}) },
});

export function cipdBody(packageName: string, iid: string, tags: string[] = [], refs: string[] = []): object {
  return {
    cipdReport: {
      packageName,
      iid,
      ...(tags.length
        ? { tags: tags.map((t) => splitPair(t, ':', '--tag', 'key:value')).map(([key, value]) => ({ key, value })) }
        : {}),
      ...(refs.length ? { refs: refs.map((name) => ({ name })) } : {}),
    },
  };
}

export const gcsBody = (uri: string, digest: string) => ({ gcsReport: { gcsUri: uri, digest } });

export type ArtifactWhere = { gcs: string } | { cipd: string; instanceId: string; host?: string } | { oci: string };

export function artifactBody(digest: string, where: ArtifactWhere, sbomFor: string[] = []): object {
  let artifact: object;
  if ('gcs' in where) artifact = { gcs: where.gcs };
  else if ('cipd' in where)
    artifact = {
      cipd: { packageName: where.cipd, instanceId: where.instanceId, ...(where.host ? { host: where.host } : {}) },
    };
  else artifact = { oci: splitImage(where.oci) };
  return { digest, artifact, ...(sbomFor.length ? { sbomSubjects: sbomFor } : {}) };
}

export const pidBody = (pid: string | number, reporter: string) => ({ pid: String(pid), reporter });

/** "registry/path/image[:tag][@sha256:…]" → the API's image (no tag, no digest) and tag. */
export function splitImage(ref: string): { image: string; tag?: string } {
  const noDigest = ref.split('@', 1)[0] ?? '';
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  if (colon > slash && slash !== -1) return { image: noDigest.slice(0, colon), tag: noDigest.slice(colon + 1) };
  return { image: noDigest };
}

function splitPair(value: string, sep: string, flag: string, shape: string): [string, string] {
  const i = value.indexOf(sep);
  if (i <= 0 || i === value.length - 1) throw new UsageError(`${flag}: "${value}" is not ${shape}`);
  return [value.slice(0, i), value.slice(i + 1)];
}
