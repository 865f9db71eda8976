// Cloud Function entry point `provenanceApi` (HTTP): the read API for release
// tooling. Thin: built once from the environment; routes live in api/.
import { http } from '@google-cloud/functions-framework';
import { loadConfig } from '../config.js';
import { buildProvenanceApi } from '../app/compose.js';
import { fromExpress, send } from '../api/http.js';
import { traceFromHeaders } from '../api/trace-context.js';
import { functionName, withLogContext } from '../log.js';
import { lazy } from '../lazy.js';

const handler = lazy(() => buildProvenanceApi(loadConfig()));

http('provenanceApi', (req, res) => {
  const request = fromExpress(req);
  return withLogContext(
    { function: functionName('provenanceApi'), trace: traceFromHeaders(request.headers) },
    async () => send(res, await (await handler())(request)),
  );
});
