// A really signed provenance for one artifact, as the assembler hands it to the
// publishing sinks: a minimal SLSA v1 statement, DSSE-signed by `signer`, with
// its envelope digest and Sigstore bundle.
import { createHash } from 'node:crypto';
import type { Signer } from '../../functions/ports/signer.js';
import type { SignedProvenance } from '../../functions/ports/publisher.js';
import { envelopeToBundle } from '../../functions/provenance/bundle.js';
import { signStatement } from '../../functions/provenance/dsse.js';
import { SLSA_PROVENANCE_V1, STATEMENT_TYPE, type Statement } from '../../functions/provenance/statement.js';

export async function signedProvenance(
  signer: Signer,
  opts: { taskId: string; subjectName: string; subjectSha256: string; padding?: number },
): Promise<SignedProvenance> {
  const statement: Statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: opts.subjectName, digest: { sha256: opts.subjectSha256 } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: 'https://example.test/build',
        externalParameters: opts.padding ? { padding: 'x'.repeat(opts.padding) } : {},
        internalParameters: { reporter: 'builder@example.test' },
        resolvedDependencies: [],
      },
      runDetails: {
        builder: { id: 'https://example.test/builder' },
        metadata: {
          invocationId: opts.taskId,
          startedOn: '2026-01-01T00:00:00Z',
          finishedOn: '2026-01-01T00:01:00Z',
        },
        byproducts: [],
      },
    },
  };
  const envelope = await signStatement(statement, signer);
  const envelopeJson = JSON.stringify(envelope);
  return {
    taskId: opts.taskId,
    keyId: envelope.signatures[0].keyid,
    envelopeJson,
    envelopeSha256: createHash('sha256').update(envelopeJson).digest('hex'),
    bundleJson: JSON.stringify(envelopeToBundle(envelope)),
  };
}
