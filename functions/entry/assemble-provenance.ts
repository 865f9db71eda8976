// Cloud Function entry point `assembleProvenance` (CloudEvent, Pub/Sub
// messagePublished on the upload-complete topic). Thin: decode the message,
// hand the task key to ProvenanceAssembler. A malformed message is logged and
// acknowledged (returning normally); anything a retry may fix is thrown, so
// Pub/Sub redelivers.
import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import { loadConfig } from '../config.js';
import { buildAssembler } from '../app/compose.js';
import { addLogContext, functionName, log, withLogContext } from '../log.js';
import { traceFromCloudEvent } from '../api/trace-context.js';
import { redeliverOnFailure } from '../api/event-failure.js';
import { MalformedMessageError, taskKeyFromPubSubEvent } from '../api/upload-complete-event.js';
import { lazy } from '../lazy.js';

const assembler = lazy(() => buildAssembler(loadConfig()));

cloudEvent('assembleProvenance', (event: CloudEvent<unknown>) =>
  withLogContext({ function: functionName('assembleProvenance'), trace: traceFromCloudEvent(event) }, () =>
    redeliverOnFailure(() => assembleFrom(event)),
  ),
);

async function assembleFrom(event: CloudEvent<unknown>): Promise<void> {
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
  addLogContext({ taskKey });
  const outcome = await (await assembler()).assemble(taskKey);
  log(
    outcome.status === 'failed' || outcome.status === 'ignored' ? 'WARNING' : 'INFO',
    `provenance ${outcome.status}`,
    { eventId: event.id, ...outcome },
  );
}
