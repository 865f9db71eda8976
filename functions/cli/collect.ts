// `provenance collect`: the step-outputs convention (seed 001). Steps write
// files into a folder ($BUILDER_OUTPUT, else /builder/outputs), one JSON object
// per line naming something they produced:
//   {"image": "us-docker.pkg.dev/p/r/app:1.2", "digest": "sha256:…"}
//   {"gcs": "gs://bucket/object", "digest": "sha256:…"}
//   {"cipd": "pkg/name", "instance_id": "…", "digest": "sha256:…"}
// optionally with "sbom_for": ["sha256:…"]. Each becomes an artifact report.
// Every line is checked first; any malformed line is reported as
// file:line: reason and nothing is sent.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { artifactBody, type ArtifactWhere } from './report/bodies.js';
import { checkBody } from './report/methods.js';
import type { BatchItem } from './report/reporter.js';
import { jsonObjectLines } from './json-lines.js';

export const DEFAULT_OUTPUTS_DIR = '/builder/outputs';

export interface Collected {
  dir: string;
  files: number;
  items: BatchItem[];
  problems: string[];
}

export function collectOutputs(dir: string): Collected | { dir: string; missing: true } {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => statSync(join(dir, n)).isFile())
      .sort();
  } catch {
    return { dir, missing: true };
  }
  const items: BatchItem[] = [];
  const problems: string[] = [];
  for (const name of names) {
    for (const l of jsonObjectLines(readFileSync(join(dir, name), 'utf8'))) {
      const where = `${join(dir, name)}:${l.line}`;
      const body = 'error' in l ? l.error : outputLine(l.object);
      if (typeof body === 'string') {
        problems.push(`${where}: ${body}`);
        continue;
      }
      const problem = checkBody('ReportArtifactDigest', body);
      if (problem) problems.push(`${where}: ${problem}`);
      else items.push({ line: items.length + 1, method: 'ReportArtifactDigest', body });
    }
  }
  return { dir, files: names.length, items, problems };
}

/** One outputs line's object → an artifact report body, or why it is not one. */
function outputLine(o: Record<string, unknown>): object | string {
  const kinds = ['image', 'gcs', 'cipd'].filter((k) => k in o);
  if (kinds.length !== 1) return 'needs exactly one of "image", "gcs" or "cipd"';
  const known = new Set(['image', 'gcs', 'cipd', 'instance_id', 'digest', 'sbom_for', 'host']);
  const unknown = Object.keys(o).filter((k) => !known.has(k));
  if (unknown.length) return `unknown field(s): ${unknown.join(', ')}`;
  if (typeof o.digest !== 'string') return '"digest" (sha256:<hex>) is required';
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  let where: ArtifactWhere;
  if (kinds[0] === 'image') {
    const image = str('image');
    if (!image) return '"image" must be a string';
    where = { oci: image };
  } else if (kinds[0] === 'gcs') {
    const gcs = str('gcs');
    if (!gcs) return '"gcs" must be a string';
    where = { gcs };
  } else {
    const [cipd, instanceId, host] = [str('cipd'), str('instance_id'), str('host')];
    if (!cipd || !instanceId) return '"cipd" needs a string "instance_id"';
    where = { cipd, instanceId, ...(host ? { host } : {}) };
  }
  const sbomFor = o.sbom_for === undefined ? [] : o.sbom_for;
  if (!Array.isArray(sbomFor) || sbomFor.some((d) => typeof d !== 'string'))
    return '"sbom_for" must be a list of digests';
  return artifactBody(o.digest, where, sbomFor as string[]);
}
