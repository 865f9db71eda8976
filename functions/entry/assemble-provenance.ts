// Cloud Function entry point `assembleProvenance` (CloudEvent, Pub/Sub
// messagePublished on the upload-complete topic). Thin: decode the message,
// hand the task key to ProvenanceAssembler. A malformed message is logged and
// acknowledged (returning normally); anything a retry may fix is thrown, so
// Pub/Sub redelivers.
import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import { loadConfig } from '../config.js';
import { buildAssembler } from '../app/compose.js';
import { log } from '../log.js';
import { MalformedMessageError, taskKeyFromPubSubEvent } from '../api/upload-complete-event.js';
import { lazy } from '../lazy.js';

const assembler = lazy(() => buildAssembler(loadConfig()));

cloudEvent('assembleProvenance', async (event: CloudEvent<unknown>) => {
  let taskKey: string;
  try {
    taskKey = taskKeyFromPubSubEvent(event.data);
  } catch (err) {
    if (!(err instanceof MalformedMessageError)) throw err;
    log('WARNING', `malformed upload-complete message acknowledged: ${err.message}`, {
      eventId: event.id,
      eventType: event.type,
    });
    return;
  }
  const outcome = await (await assembler()).assemble(taskKey);
  log(
    outcome.status === 'failed' || outcome.status === 'ignored' ? 'WARNING' : 'INFO',
    `provenance ${outcome.status}`,
    { taskKey, eventId: event.id, ...outcome },
  );
});
