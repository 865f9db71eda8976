// What tests need from the emulators the harness (test/run.ts) started. A test
// that needs one fails, loudly, when it is missing: it never skips.
import { Firestore } from '@google-cloud/firestore';
import { randomUUID } from 'node:crypto';

export function requireEmulator(name: 'FIRESTORE_EMULATOR_HOST' | 'PUBSUB_EMULATOR_HOST'): string {
  const host = process.env[name];
  if (!host) {
    throw new Error(
      `${name} is not set: run the tests with \`npm test\`, which starts the emulators (gcloud and Java 17 are required)`,
    );
  }
  return host;
}

/** A Firestore client on the emulator, in a project of its own so tests never see each other's data. */
export function emulatorFirestore(): { db: Firestore; projectId: string } {
  requireEmulator('FIRESTORE_EMULATOR_HOST');
  const projectId = `test-${randomUUID().slice(0, 8)}`;
  return { db: new Firestore({ projectId, ignoreUndefinedProperties: true }), projectId };
}
