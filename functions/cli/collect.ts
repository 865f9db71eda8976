// `provenance collect`: the step-outputs convention (seed 001). Steps write
// files into a folder ($BUILDER_OUTPUT, else /builder/outputs), one JSON object
// per line naming something they produced:
//   {"image": "us-docker.pkg.dev/p/r/app:1.2", "digest": "sha256:…"}
//   {"gcs": "gs://bucket/object", "digest": "sha256:…"}
//   {"cipd": "pkg/name", "instance_id": "…", "digest": "sha256:…"}
// optionally with "sbom_for": ["sha256:…"]. Each becomes an artifact report.
// Every line is checked first; any malformed line is reported as
// file:line: reason and nothing is sent. An entry of the folder that cannot be
// read as a file (a dangling link, a link out of the folder, a directory, a
// FIFO, no permission, over 16 MiB) is reported as path: reason; it fails the command but
// does not hide the files beside it, which are read and reported. Nothing is
// ever opened that is not a regular file inside the folder (a FIFO would block).
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { artifactBody, type ArtifactWhere } from './report/bodies.js';
import { checkBody } from './report/methods.js';
import type { BatchItem } from './report/reporter.js';
import { jsonObjectLines } from './json-lines.js';
import { printable } from '../provenance/verify.js';

export const DEFAULT_OUTPUTS_DIR = '/builder/outputs';
/** An outputs file is a list of artifacts, not an artifact: a bigger one was put there by mistake. */
export const MAX_OUTPUTS_FILE_BYTES = 16 * 1024 * 1024;

export interface Collected {
  dir: string;
  /** Files read. */
  files: number;
  items: BatchItem[];
  /** Malformed lines, as file:line: reason. Any of them: nothing is sent. */
  problems: string[];
  /** Entries that could not be read, as path: reason. The files beside them still count. */
  unreadable: string[];
}

export function collectOutputs(dir: string): Collected | { dir: string; missing: true } {
  let names: string[];
  let root: string;
  try {
    root = realpathSync(dir);
    names = readdirSync(root).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { dir, missing: true };
    return { dir, files: 0, items: [], problems: [], unreadable: [`${dir}: ${reasonOf(err)}`] };
  }
  const items: BatchItem[] = [];
  const problems: string[] = [];
  const unreadable: string[] = [];
  let files = 0;
  for (const name of names) {
    // Names are whatever the build's steps wrote: printed with control and bidi characters escaped.
    const path = printable(join(dir, name), 1000);
    const read = readEntry(root, join(root, name));
    if (typeof read === 'string') {
      unreadable.push(`${path}: ${read}`);
      continue;
    }
    files++;
    for (const l of jsonObjectLines(read)) {
      const where = `${path}:${l.line}`;
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
  return { dir, files, items, problems, unreadable };
}

/** A folder entry's bytes, or why it cannot be read as an outputs file. */
function readEntry(root: string, path: string): Buffer | string {
  let target = path;
  try {
    if (lstatSync(path).isSymbolicLink()) {
      try {
        target = realpathSync(path);
      } catch {
        return 'a dangling symbolic link';
      }
      const rel = relative(root, target);
      if (rel.startsWith('..') || isAbsolute(rel))
        return `a symbolic link out of the folder (to ${printable(target, 1000)})`;
    }
    const st = statSync(target);
    if (st.isDirectory()) return 'a directory, not a file';
    if (!st.isFile()) return `not a regular file (${st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device'})`;
    if (st.size > MAX_OUTPUTS_FILE_BYTES)
      return `${st.size} bytes, more than an outputs list may hold (${MAX_OUTPUTS_FILE_BYTES})`;
    return readFileSync(target);
  } catch (err) {
    return reasonOf(err);
  }
}

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'cannot be read: permission denied';
  if (e.code === 'ENOTDIR') return 'not a folder';
  return `cannot be read (${e.code ?? e.message})`;
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
