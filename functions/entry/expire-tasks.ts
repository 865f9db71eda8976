// Cloud Function entry point `expireTasks` (CloudEvent, Pub/Sub
// messagePublished on the `sweep` topic, which Cloud Scheduler publishes to).
// Thin: the message's content does not matter; each delivery runs one sweep
// (lifecycle/sweep.ts), which is idempotent and safe to overlap.
import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import { loadConfig } from '../config.js';
import { buildSweeper } from '../app/compose.js';
import { log } from '../log.js';
import type { TaskSweeper } from '../lifecycle/sweep.js';

let sweeper: Promise<TaskSweeper> | undefined;

cloudEvent('expireTasks', async (event: CloudEvent<unknown>) => {
  sweeper ??= buildSweeper(loadConfig()).catch((err) => {
    sweeper = undefined;
    throw err;
  });
  const result = await (await sweeper).sweep();
  log('INFO', 'sweep done', { eventId: event.id, ...result });
});
