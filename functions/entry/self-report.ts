// Cloud Function entry point `selfReport` (HTTP, functions-framework): the
// SelfReport API. Thin: the handler is built once from the environment on the
// first request; the logic lives in api/ and domain/.
import { http } from '@google-cloud/functions-framework';
import { loadConfig } from '../config.js';
import { buildSelfReport } from '../app/compose.js';
import { fromExpress, send, type HttpHandler, type HttpRequest } from '../api/http.js';
import { errorResponse } from '../api/connect-endpoint.js';
import { toConnectError } from '../api/errors.js';
import { traceFromHeaders } from '../api/trace-context.js';
import { functionName, withLogContext } from '../log.js';
import { lazy } from '../lazy.js';

const handler = lazy(() => buildSelfReport(loadConfig()));
let ready: HttpHandler | undefined; // once built: no extra await per request

// Not an async function, and it returns nothing: once built, a report creates
// only the promises its own work needs (functions-framework runs each request
// in a node `domain`, which taxes every promise, and chains a catch onto a
// returned one). Handlers never reject: errors are already responses.
// Every line logged while a request is handled carries its trace (and, once
// bound, its task).
http('selfReport', (req, res) => {
  const request = fromExpress(req);
  withLogContext({ function: functionName('selfReport'), trace: traceFromHeaders(request.headers) }, () => {
    if (ready) respond(ready, request, res);
    else
      void handler().then(
        (h) => {
          ready = h;
          respond(h, request, res);
        },
        (err: unknown) => send(res, internalError(err)),
      );
  });
});

function respond(h: HttpHandler, request: HttpRequest, res: Parameters<typeof send>[0]): void {
  const out = h(request);
  if (out instanceof Promise)
    void out.then(
      (o) => send(res, o),
      (err: unknown) => send(res, internalError(err)),
    );
  else send(res, out);
}

const internalError = (err: unknown) => errorResponse(toConnectError(err));
