// Baseline for bench/ingest: a functions-framework HTTP function that does
// nothing but answer {}. Same framework, same machine, same load.
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';

http('bare', (_req, res) => {
  res.status(200).json({});
});
const server = getTestServer('bare');
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as { port: number }).port}`));
