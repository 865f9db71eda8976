// Backend failures become the service's retryable answers; bugs stay bugs.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { backendCall, translate } from '../../functions/adapters/backend-call.js';
import { ServiceError } from '../../functions/domain/errors.js';

const grpc = (code: number, message = 'x') => Object.assign(new Error(message), { code });
const codeOf = (err: unknown) => (err instanceof ServiceError ? err.code : 'passed through');

it('maps retryable gRPC codes, lost connections and network errors; passes the rest through', () => {
  assert.equal(codeOf(translate('firestore get', grpc(14))), 'unavailable');
  assert.equal(codeOf(translate('firestore get', grpc(4))), 'unavailable');
  assert.equal(codeOf(translate('firestore get', grpc(10))), 'unavailable');
  assert.equal(codeOf(translate('firestore get', grpc(8))), 'resource_exhausted');
  assert.equal(
    codeOf(translate('firestore get', grpc(13, '13 INTERNAL: Received RST_STREAM with code 0'))),
    'unavailable',
  );
  assert.equal(
    codeOf(translate('firestore get', Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))),
    'unavailable',
  );
  assert.equal(codeOf(translate('firestore get', grpc(13, 'serialization failed'))), 'passed through');
  assert.equal(codeOf(translate('firestore get', grpc(3, 'INVALID_ARGUMENT'))), 'passed through');
  assert.equal(codeOf(translate('firestore get', new TypeError('bug'))), 'passed through');
  const domain = new ServiceError('failed_precondition', 'stage moved back');
  assert.equal(translate('firestore tx', domain), domain);
});

it('answers unavailable at the deadline instead of waiting', async () => {
  const t0 = performance.now();
  await assert.rejects(
    backendCall('kms sign', 100, () => new Promise(() => undefined)),
    (err: unknown) =>
      err instanceof ServiceError && err.code === 'unavailable' && /did not answer within 0.1s/.test(err.message),
  );
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(await backendCall('kms sign', 100, async () => 7), 7);
});
