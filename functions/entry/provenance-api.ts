// Cloud Function entry point `provenanceApi` (HTTP): the read API for release
// tooling. Thin: built once from the environment; routes live in api/.
import { http } from '@google-cloud/functions-framework';
import { loadConfig } from '../config.js';
import { buildProvenanceApi } from '../app/compose.js';
import { fromExpress, send, type HttpHandler } from '../api/http.js';

let handler: Promise<HttpHandler> | undefined;

http('provenanceApi', async (req, res) => {
  handler ??= buildProvenanceApi(loadConfig()).catch((err) => {
    handler = undefined;
    throw err;
  });
  send(res, await (await handler)(fromExpress(req)));
});
