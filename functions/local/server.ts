// The whole service behind one local HTTP port: the SelfReport RPCs (and, as
// they arrive, the read API). Used by npm start, the e2e test and the bench.
import { createServer, type Server } from 'node:http';
import { fromNode, jsonResponse, send, type HttpHandler } from '../api/http.js';
import { MAX_BODY_BYTES } from '../api/connect-endpoint.js';

export interface Route {
  prefix: string;
  handler: HttpHandler;
}

export function localServer(routes: Route[]): Server {
  return createServer(async (req, res) => {
    try {
      const request = await fromNode(req, MAX_BODY_BYTES);
      const route = routes.find((r) => request.url.startsWith(r.prefix));
      if (!route) {
        send(res, jsonResponse(404, { code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` }));
        return;
      }
      send(res, await route.handler(request));
    } catch (err) {
      console.error(err);
      if (!res.headersSent) send(res, jsonResponse(500, { code: 'internal', message: 'internal error' }));
    }
  });
}

export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(`http://localhost:${(server.address() as { port: number }).port}`));
  });
}
