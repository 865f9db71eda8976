// The whole service over one set of stores and one signer, as npm start serves
// it on one port: selfReport, the read API, and the assembler behind an
// in-process publisher. Also used by tests and benches that want the service
// without spawning it.
import type { Config } from '../config.js';
import {
  buildAssembler,
  buildProvenanceApi,
  buildSelfReport,
  buildSweeper,
  createSigner,
  createStores,
} from '../app/compose.js';
import { InProcessPublisher } from '../adapters/in-process-publisher.js';
import { log } from '../log.js';
import type { Route } from './server.js';

/** Every route of the service over one set of stores and one signer, as npm start serves them. */
export async function localRoutes(config: Config) {
  const [stores, signer] = await Promise.all([createStores(config), createSigner(config)]);
  const assembler = await buildAssembler(config, { stores, signer });
  const publisher =
    config.events === 'in-process'
      ? new InProcessPublisher(async (taskKey) => {
          const outcome = await assembler.assemble(taskKey);
          log('INFO', `provenance ${outcome.status}`, { taskKey, ...outcome });
        })
      : undefined;
  const routes: Route[] = [
    {
      prefix: '/provenance.snooperpb.SelfReport/',
      handler: await buildSelfReport(config, { stores, ...(publisher ? { publisher } : {}) }),
    },
  ];
  const readApi = await buildProvenanceApi(config, { stores, signer, ...(publisher ? { publisher } : {}) });
  routes.push({ prefix: '/v1/', handler: readApi }, { prefix: '/ui', handler: readApi });
  const sweeper = publisher ? await buildSweeper(config, { stores, uploadComplete: publisher }) : undefined;
  return { routes, stores, signer, assembler, publisher, sweeper };
}
