// Deliveries as Pub/Sub makes them to a functions-framework CloudEvent
// function: a binary-mode messagePublished CloudEvent over HTTP.
import { randomUUID } from 'node:crypto';

export function pubSubMessage(body: unknown, messageId = randomUUID()) {
  return {
    message: {
      data: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)).toString('base64'),
      messageId,
      publishTime: new Date().toISOString(),
      attributes: {},
    },
    subscription: 'projects/test/subscriptions/assembler',
  };
}

/** POST one messagePublished CloudEvent (binary mode) and return the HTTP status. */
export async function deliverCloudEvent(
  url: string,
  data: ReturnType<typeof pubSubMessage>,
  id = data.message.messageId,
): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-source': '//pubsub.googleapis.com/projects/test/topics/upload-complete',
      'ce-time': new Date().toISOString(),
    },
    body: JSON.stringify(data),
  });
  await res.arrayBuffer();
  return res.status;
}
