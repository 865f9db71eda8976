// bench/ingest's subject: the real `selfReport` entry module under
// functions-framework, configured from the environment like a deployment.
import { getTestServer } from '@google-cloud/functions-framework/testing';
import '../../functions/entry/self-report.js';

const server = getTestServer('selfReport');
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as { port: number }).port}`));
