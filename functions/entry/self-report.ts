// Cloud Function entry point `selfReport` (HTTP, functions-framework): the
// SelfReport API. Thin: the handler is built once from the environment on the
// first request; the logic lives in api/ and domain/.
import { http } from '@google-cloud/functions-framework';
import { loadConfig } from '../config.js';
import { buildSelfReport } from '../app/compose.js';
import { fromExpress, send, type HttpHandler } from '../api/http.js';
import { lazy } from '../lazy.js';

const handler = lazy(() => buildSelfReport(loadConfig()));
let ready: HttpHandler | undefined; // once built: no extra await per request

http('selfReport', async (req, res) => {
  ready ??= await handler();
  send(res, await ready(fromExpress(req)));
});
