// What the verifier's tests sign and run: a small statement that passes every
// check the tests ask for (its fields overridable at the top level or inside
// the predicate), its artifact digest, and the `provenance` bin pointed at a
// service that is not there, so only files given on the command line count.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const SHA = 'ab'.repeat(32);

const bin = join(__dirname, '..', '..', '..', 'bin', 'provenance.js');

export function provenanceCli(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PROVENANCE_URL: 'http://127.0.0.1:9' },
  });
}

export function fixtureStatement(over: Record<string, unknown> = {}, predicateOver: Record<string, unknown> = {}) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'gs://b/app.tar', digest: { sha256: SHA } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://example/bt',
        externalParameters: {},
        internalParameters: { reporter: 'builder@example.com' },
        resolvedDependencies: [
          {
            uri: 'git+https://github.com/example/app',
            digest: { gitCommit: 'a'.repeat(40) },
            annotations: { refs: ['refs/heads/main'] },
          },
        ],
      },
      runDetails: { builder: { id: 'https://builder.example' }, metadata: { invocationId: 'build-1' } },
      ...predicateOver,
    },
    ...over,
  };
}
