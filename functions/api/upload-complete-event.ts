// The upload-complete message, as it reaches assembleProvenance: a Pub/Sub
// messagePublished CloudEvent whose message data is base64 JSON of
// UploadCompleteMessage (ports/events.ts, the type the publishers write).
// Anything else is malformed: the caller acknowledges and logs it, since no
// redelivery can make it valid.
import type { UploadCompleteMessage } from '../ports/events.js';
import { JsonTextError, parseStrictJson } from '../domain/strict-json-text.js';

export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';
}

const TASK_KEY = /^[0-9a-f]{40}$/;

/** The upload-complete message carried by a messagePublished CloudEvent's data. */
export function uploadCompleteFromPubSubEvent(data: unknown): UploadCompleteMessage {
  const message = (data as { message?: { data?: unknown } } | undefined)?.message;
  if (typeof message?.data !== 'string')
    throw new MalformedMessageError('event data has no message.data (expected a Pub/Sub messagePublished event)');
  let body: unknown;
  try {
    // The service's one strict reader: two taskKeys (which one?) or invalid UTF-8 are malformed, not guessed at.
    body = parseStrictJson(Buffer.from(message.data, 'base64'));
  } catch (err) {
    throw new MalformedMessageError(
      `message.data is not base64-encoded JSON${err instanceof JsonTextError ? ` (${err.message})` : ''}`,
    );
  }
  return uploadCompleteMessage(body);
}

/** The task key carried by a messagePublished CloudEvent's data. */
export function taskKeyFromPubSubEvent(data: unknown): string {
  return uploadCompleteFromPubSubEvent(data).taskKey;
}

/** A decoded message body checked against UploadCompleteMessage: {"taskKey": "<40 hex>"}. */
export function uploadCompleteMessage(body: unknown): UploadCompleteMessage {
  const key = (body as { taskKey?: unknown } | null)?.taskKey;
  if (typeof key !== 'string' || !TASK_KEY.test(key))
    throw new MalformedMessageError('message.taskKey: expected 40 lowercase hex characters');
  return { taskKey: key };
}
