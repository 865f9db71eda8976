// The test harness behind `npm test`: starts the Firestore and Pub/Sub
// emulators on free ports, runs every test file with node's test runner
// against them, and stops them (the whole process group) however the run ends.
// If an emulator cannot start, the run fails; nothing is skipped.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../functions/local/emulators.js';

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? testFiles(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const files = only.length ? only : testFiles(__dirname).sort();
  const running: RunningEmulator[] = [];
  const stopAll = () => Promise.all(running.map((e) => e.stop()));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void stopAll().then(() => process.exit(130)));
  }
  try {
    const [firestore, pubsub] = await Promise.all([startEmulator('firestore'), startEmulator('pubsub')]);
    running.push(firestore, pubsub);
    console.log(`emulators: firestore ${firestore.host}, pubsub ${pubsub.host}`);
    const env = {
      ...process.env,
      FIRESTORE_EMULATOR_HOST: firestore.host,
      PUBSUB_EMULATOR_HOST: pubsub.host,
      // No metadata server here: stop the Google clients from probing for one.
      METADATA_SERVER_DETECTION: 'none',
    };
    const child = spawn(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
    return await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  } finally {
    await stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
