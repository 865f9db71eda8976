// Cloud Function entry point `expireTasks` (CloudEvent, Pub/Sub
// messagePublished on the `sweep` topic, which Cloud Scheduler publishes to).
// Thin: the message's content does not matter; each delivery runs one sweep
// (lifecycle/sweep.ts), which is idempotent and safe to overlap.
import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import { loadConfig } from '../config.js';
import { buildSweeper } from '../app/compose.js';
import { functionName, log, withLogContext } from '../log.js';
import { traceFromCloudEvent } from '../api/trace-context.js';
import { redeliverOnFailure } from '../api/event-failure.js';
import { lazy } from '../lazy.js';

const sweeper = lazy(() => buildSweeper(loadConfig()));

cloudEvent('expireTasks', (event: CloudEvent<unknown>) =>
  withLogContext({ function: functionName('expireTasks'), trace: traceFromCloudEvent(event) }, () =>
    redeliverOnFailure(async () => {
      const result = await (await sweeper()).sweep();
      log('INFO', 'sweep done', { eventId: event.id, ...result });
    }),
  ),
);
