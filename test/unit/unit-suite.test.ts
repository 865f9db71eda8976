// `npm run test:unit` is the inner loop: it must run anywhere in seconds, with
// no emulator, KMS server or registry. A test that needs one belongs in
// test/integration (run by `npm test`, which starts them); this keeps it there.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const UNIT = join(__dirname, '..', '..', '..', 'test', 'unit');

/** Modules that start or need a server: the emulators, the local KMS, the registry. */
const NEEDS_A_SERVER = [
  /helpers\/emulator-env\.js$/,
  /helpers\/firestore-ops\.js$/,
  /helpers\/kms-server\.js$/,
  /helpers\/registry\.js$/,
  /functions\/local\/emulators\.js$/,
];

it('no unit test imports a helper that needs an emulator, a KMS server or a registry', () => {
  const files = readdirSync(UNIT).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 10, `found ${files.length} unit tests`);
  const offenders: string[] = [];
  for (const file of files) {
    const source = readFileSync(join(UNIT, file), 'utf8');
    for (const m of source.matchAll(/(?:from\s*|import\(\s*)['"]([^'"]+)['"]/g)) {
      const spec = m[1] as string;
      if (NEEDS_A_SERVER.some((re) => re.test(spec))) offenders.push(`${file} imports ${spec}`);
    }
    if (/process\.env\.(FIRESTORE|PUBSUB)_EMULATOR_HOST/.test(source)) offenders.push(`${file} reads an emulator host`);
  }
  assert.deepEqual(offenders, [], 'move these to test/integration');
});
