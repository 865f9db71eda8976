// bench/cli's subject: the whole service as npm start wires it (in-memory
// store, in-process assembly), on a free port, in a process of its own.
import { loadConfig } from '../../functions/config.js';
import { localRoutes } from '../../functions/local/routes.js';
import { listen, localServer } from '../../functions/local/server.js';

void (async () => {
  const routes = await localRoutes(loadConfig());
  const url = await listen(localServer(routes.routes), 0);
  console.log(`listening ${new URL(url).port}`);
})();
