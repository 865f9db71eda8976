// UPLOAD_COMPLETE is announced on Pub/Sub (the emulator): one message per
// accepted UPLOAD_COMPLETE, again on a repeat; a failed publish answers
// `unavailable` so the step retries; other reports never load the Pub/Sub SDK.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PubSub, type Subscription } from '@google-cloud/pubsub';
import { PubSubPublisher } from '../../functions/adapters/pubsub-publisher.js';
import { taskKeyFromPubSubEvent } from '../../functions/api/upload-complete-event.js';
import { UPLOAD_COMPLETE_ATTRIBUTES } from '../../functions/ports/events.js';
import { requireEmulator } from '../helpers/emulator-env.js';
import { selfReportHarness, STARTED } from '../helpers/self-report-client.js';

describe('UPLOAD_COMPLETE publish (Pub/Sub emulator)', () => {
  let pubsub: PubSub;
  let sub: Subscription;
  before(async () => {
    requireEmulator('PUBSUB_EMULATOR_HOST');
    pubsub = new PubSub({ projectId: `pub-${process.pid}` });
    const [topic] = await pubsub.createTopic('upload-complete');
    [sub] = await topic.createSubscription('assembler');
  });
  after(async () => {
    await pubsub.close();
  });

  async function pull(n: number): Promise<string[]> {
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} messages arrived`)), 60_000);
      sub.on('message', (m) => {
        m.ack();
        // Read back by the assembler's own reader, as a push subscription delivers it.
        assert.deepEqual(m.attributes, UPLOAD_COMPLETE_ATTRIBUTES);
        got.push(taskKeyFromPubSubEvent({ message: { data: m.data.toString('base64') } }));
        if (got.length === n) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await sub.close();
    return got;
  }

  it('publishes the task key on UPLOAD_COMPLETE, and again on a repeat', async () => {
    const publisher = new PubSubPublisher({ topic: 'upload-complete', client: pubsub });
    const keys: string[] = [];
    const h = selfReportHarness({
      onUploadComplete: async (k) => {
        keys.push(k);
        return publisher.publishUploadComplete(k);
      },
    });
    assert.equal((await h.call('ReportTaskStage', STARTED)).status, 200);
    assert.equal((await h.call('ReportTaskStage', { taskStage: 'UPLOAD_COMPLETE' })).status, 200);
    assert.equal((await h.call('ReportTaskStage', { taskStage: 'UPLOAD_COMPLETE' })).status, 200);
    const received = await pull(2);
    assert.deepEqual(received, [keys[0], keys[0]]);
  });

  it('answers unavailable when the publish fails, and the task stays at UPLOAD_COMPLETE', async () => {
    const h = selfReportHarness({ onUploadComplete: async () => Promise.reject(new Error('pubsub down')) });
    await h.call('ReportTaskStage', STARTED);
    const r = await h.call('ReportTaskStage', { taskStage: 'UPLOAD_COMPLETE' });
    assert.equal(r.status, 503);
    assert.equal(r.json.code, 'unavailable');
  });

  it('does not load the Pub/Sub or KMS SDKs for other reports, nor when every function is registered', () => {
    for (const entry of ['../../functions/entry/self-report.js', '../../functions/index.js']) {
      const script = `
        process.env.AUTH_MODE='dev'; process.env.TASK_STORE='memory'; process.env.EVENTS='pubsub';
        require(${JSON.stringify(require.resolve(entry))});
        const loaded = Object.keys(require.cache).filter((p) => /@google-cloud[\\/](pubsub|kms)[\\/]/.test(p));
        process.stdout.write(JSON.stringify(loaded));`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      assert.equal(r.stdout, '[]', `${entry}: ${r.stderr}`);
    }
  });
});
