// Cloud Function entry point `selfReport` (HTTP, functions-framework): the
// SelfReport API. Thin: the handler is built once from the environment on the
// first request; the logic lives in api/ and domain/.
import { http } from '@google-cloud/functions-framework';
import { loadConfig } from '../config.js';
import { createTaskStore, createVerifier, selfReportHandler } from '../app/compose.js';
import { fromExpress, send, type HttpHandler } from '../api/http.js';
import { PubSubPublisher } from '../adapters/pubsub-publisher.js';

let handler: Promise<HttpHandler> | undefined;
let ready: HttpHandler | undefined; // once built: no extra await per request

async function build(): Promise<HttpHandler> {
  const config = loadConfig();
  const publisher = config.uploadCompleteTopic
    ? new PubSubPublisher({ topic: config.uploadCompleteTopic, ...(config.projectId ? { projectId: config.projectId } : {}) })
    : undefined;
  return selfReportHandler(config, {
    store: await createTaskStore(config),
    verifier: createVerifier(config),
    ...(publisher ? { onUploadComplete: (key: string) => publisher.publishUploadComplete(key) } : {}),
  });
}

http('selfReport', async (req, res) => {
  if (!ready) {
    handler ??= build().catch((err) => {
      handler = undefined; // let the next request try again
      throw err;
    });
    ready = await handler;
  }
  send(res, await ready(fromExpress(req)));
});
