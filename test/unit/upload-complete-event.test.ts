// Decoding the upload-complete Pub/Sub message; anything malformed is named.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MalformedMessageError, taskKeyFromPubSubEvent } from '../../functions/api/upload-complete-event.js';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
const KEY = 'f'.repeat(40);

it('reads the task key from a messagePublished event', () => {
  assert.equal(
    taskKeyFromPubSubEvent({ message: { data: b64({ taskKey: KEY }), messageId: '1' }, subscription: 's' }),
    KEY,
  );
});

it('names what is wrong with a malformed message', () => {
  const cases: [unknown, RegExp][] = [
    [undefined, /no message.data/],
    [{ message: {} }, /no message.data/],
    [{ message: { data: b64('not json') } }, /not base64-encoded JSON/],
    [{ message: { data: b64({}) } }, /message.taskKey/],
    [
      { message: { data: b64(`{"taskKey": "${KEY}", "taskKey": "${'e'.repeat(40)}"}`) } },
      /not base64-encoded JSON \(taskKey: the key appears twice/,
    ],
    [{ message: { data: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]).toString('base64') } }, /not valid UTF-8/],
    [{ message: { data: b64({ taskKey: 'ABC' }) } }, /message.taskKey/],
    [{ message: { data: b64({ taskKey: '../'.repeat(14) }) } }, /message.taskKey/],
  ];
  for (const [data, message] of cases)
    assert.throws(
      () => taskKeyFromPubSubEvent(data),
      (e: Error) => e instanceof MalformedMessageError && message.test(e.message),
    );
});
