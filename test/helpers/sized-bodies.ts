// ReportArtifactDigest bodies of an exact size, in JSON and binary, for the
// body-limit tests: a limit is only tested where a body is one byte under,
// exactly at, and one byte over it.
import { create, toBinary } from '@bufbuild/protobuf';
import { ReportArtifactDigestRequestSchema } from '../../functions/gen/provenance/snooperpb/report_pb.js';

export const subjectDigest = (i: number) => i.toString(16).padStart(64, '0');
export const ARTIFACT_SHA = 'f'.repeat(64);

/** JSON with `subjects` SBOM subjects, padded with trailing spaces to exactly `size` bytes. */
export function artifactJson(size: number, subjects = 900): Buffer {
  const body = JSON.stringify({
    digest: `sha256:${ARTIFACT_SHA}`,
    artifact: { gcs: 'gs://example-bucket/out/sbom.spdx.json' },
    sbomSubjects: Array.from({ length: subjects }, (_, i) => subjectDigest(i + 1)),
  });
  if (body.length > size) throw new Error(`${subjects} subjects are ${body.length} bytes, more than ${size}`);
  return Buffer.from(body + ' '.repeat(size - body.length));
}

/** Binary protobuf of exactly `size` bytes: the GCS object name takes up the slack. */
export function artifactProto(size: number, subjects = Math.floor((size - 700) / 66)): Buffer {
  const make = (nameLength: number) =>
    Buffer.from(
      toBinary(
        ReportArtifactDigestRequestSchema,
        create(ReportArtifactDigestRequestSchema, {
          digest: ARTIFACT_SHA,
          artifact: { kind: { case: 'gcs', value: `gs://example-bucket/${'o'.repeat(nameLength)}` } },
          sbomSubjects: Array.from({ length: subjects }, (_, i) => subjectDigest(i + 1)),
        }),
      ),
    );
  const base = make(200).length; // 200..1000: the length's varint stays 2 bytes
  const bytes = make(200 + size - base);
  if (bytes.length !== size) throw new Error(`could not size a binary body to ${size} (got ${bytes.length})`);
  return bytes;
}
