// `npm start`: the whole service on localhost:8080 (PORT overrides) in one
// process: selfReport, the assembler (fed by in-process events) and the read
// API. Firestore emulator when gcloud is installed (started here, stopped on
// exit), the in-memory store otherwise; the local dev token issuer; a local
// signing key (or KMS_KEY_VERSION).
import { loadConfig } from '../config.js';
import { localRoutes } from './routes.js';
import { log } from '../log.js';
import { gcloudAvailable, startEmulator, type RunningEmulator } from './emulators.js';
import { listen, localServer } from './server.js';

async function main(): Promise<void> {
  process.env.AUTH_MODE ??= 'dev';
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  process.env.EVENTS ??= 'in-process';
  process.env.READ_ACCESS ??= 'public';
  const emulators: RunningEmulator[] = [];
  let storeNote = 'in-memory store (install gcloud for the Firestore emulator)';
  if (!process.env.TASK_STORE) {
    if (process.env.FIRESTORE_EMULATOR_HOST) {
      process.env.TASK_STORE = 'firestore';
      storeNote = `Firestore emulator at ${process.env.FIRESTORE_EMULATOR_HOST}`;
    } else if (gcloudAvailable()) {
      const fs = await startEmulator('firestore');
      emulators.push(fs);
      process.env.FIRESTORE_EMULATOR_HOST = fs.host;
      process.env.GOOGLE_CLOUD_PROJECT ??= 'demo-provenance';
      process.env.TASK_STORE = 'firestore';
      storeNote = `Firestore emulator at ${fs.host} (started for this run)`;
    } else {
      process.env.TASK_STORE = 'memory';
    }
  } else if (process.env.TASK_STORE === 'firestore') {
    storeNote = `Firestore${process.env.FIRESTORE_EMULATOR_HOST ? ` emulator at ${process.env.FIRESTORE_EMULATOR_HOST}` : ''}`;
  }

  const stop = async () => {
    await Promise.all(emulators.map((e) => e.stop()));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.log('\nstopping…');
      void stop().then(() => process.exit(0));
    });
  }

  try {
    const config = loadConfig();
    const { routes, signer, sweeper } = await localRoutes(config);
    const url = await listen(localServer(routes, config.http), config.port);
    if (sweeper) {
      // The deployed sweep runs on Cloud Scheduler; here, on a timer.
      setInterval(() => {
        sweeper.sweep().then(
          (r) => (r.expired || r.republished || r.failed ? log('INFO', 'sweep', { ...r }) : undefined),
          (err) => log('ERROR', 'sweep failed', { error: err }),
        );
      }, config.sweepIntervalSeconds * 1000).unref();
    }
    const key = await signer.publicKey();
    printWelcome(
      url,
      storeNote,
      [...config.reporterAllowlist],
      config.audience,
      `${key.algorithm} ${key.keyId}`,
      config.events,
      config.readAccess,
      sweeper
        ? `every ${config.sweepIntervalSeconds}s; tasks silent for ${config.heartbeatTtlSeconds}s expire (SWEEP_INTERVAL_SECONDS, HEARTBEAT_TTL_SECONDS)`
        : 'off (EVENTS is not in-process)',
    );
  } catch (err) {
    await stop();
    throw err;
  }
}

function printWelcome(
  url: string,
  storeNote: string,
  reporters: string[],
  audience: string,
  key: string,
  events: string,
  reads: string,
  sweep: string,
): void {
  const rpc = `${url}/provenance.snooperpb.SelfReport`;
  // dev-token's default audience is http://localhost:8080 (or $PORT): say so when this run differs.
  const tokenCmd =
    audience === 'http://localhost:8080'
      ? 'npx provenance dev-token'
      : `npx provenance dev-token --audience ${audience}`;
  console.log(`provenance service listening on ${url}
  store:     ${storeNote}
  auth:      local dev issuer (tokens from \`npx provenance dev-token\`); reporters allowed: ${reporters.join(', ') || '(none)'}
  events:    ${events === 'in-process' ? 'in-process: UPLOAD_COMPLETE assembles provenance in this process' : events}
  sweep:     ${sweep}
  signing:   ${key}
  reads:     ${reads} (GET ${url}/v1/...)
  pages:     ${url}/ui/ (look up an artifact or a task; signatures checked in the browser)

Try it (in another terminal, from this directory):
  TOKEN=$(${tokenCmd})
  curl -sS -H "Authorization: Bearer $TOKEN" -H "X-Task-Id: demo-1" -H "Content-Type: application/json" \\
    -d '{"taskStage":"STARTED","recipe":"cloudbuild.yaml","pid":"4242"}' ${rpc}/ReportTaskStage

The README's walkthrough goes on from there to signed provenance: fetch and verify.
Press Ctrl-C to stop.`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
