// Cloud Function entry point `selfReport` (HTTP, functions-framework): the
// SelfReport API. Thin: the handler is built once from the environment on the
// first request; the logic lives in api/ and domain/.
import { http } from '@google-cloud/functions-framework';
import { loadConfig } from '../config.js';
import { buildSelfReport } from '../app/compose.js';
import { fromExpress, send, type HttpHandler } from '../api/http.js';
import { errorResponse } from '../api/connect-endpoint.js';
import { toConnectError } from '../api/errors.js';
import { lazy } from '../lazy.js';

const handler = lazy(() => buildSelfReport(loadConfig()));
let ready: HttpHandler | undefined; // once built: no extra await per request

// Not an async function, and it returns nothing: once built, a report creates
// only the promises its own work needs (functions-framework runs each request
// in a node `domain`, which taxes every promise, and chains a catch onto a
// returned one). Handlers never reject: errors are already responses.
http('selfReport', (req, res) => {
  if (ready) respond(ready, req, res);
  else
    void handler().then(
      (h) => {
        ready = h;
        respond(h, req, res);
      },
      (err: unknown) => send(res, internalError(err)),
    );
});

function respond(h: HttpHandler, req: Parameters<typeof fromExpress>[0], res: Parameters<typeof send>[0]): void {
  const out = h(fromExpress(req));
  if (out instanceof Promise)
    void out.then(
      (o) => send(res, o),
      (err: unknown) => send(res, internalError(err)),
    );
  else send(res, out);
}

const internalError = (err: unknown) => errorResponse(toConnectError(err));
