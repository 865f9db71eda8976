// EventPublisher on Pub/Sub. @google-cloud/pubsub is imported on the first
// publish only, so reports other than UPLOAD_COMPLETE never load it.
import type { PubSub, Topic } from '@google-cloud/pubsub';
import type { EventPublisher } from '../ports/events.js';

export class PubSubPublisher implements EventPublisher {
  private topic?: Promise<Topic>;

  constructor(private readonly opts: { topic: string; projectId?: string; client?: PubSub }) {}

  private async getTopic(): Promise<Topic> {
    const client = this.opts.client ?? new (await import('@google-cloud/pubsub')).PubSub(this.opts.projectId ? { projectId: this.opts.projectId } : {});
    // Batching off: one UPLOAD_COMPLETE is one message, sent now.
    return client.topic(this.opts.topic, { batching: { maxMessages: 1, maxMilliseconds: 0 } });
  }

  async publishUploadComplete(taskKey: string): Promise<void> {
    this.topic ??= this.getTopic().catch((err) => {
      this.topic = undefined;
      throw err;
    });
    const topic = await this.topic;
    await topic.publishMessage({ json: { taskKey }, attributes: { event: 'upload-complete' } });
  }
}
