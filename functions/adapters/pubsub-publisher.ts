// EventPublisher and Notifier on Pub/Sub. @google-cloud/pubsub is imported on
// the first publish only, so reports other than UPLOAD_COMPLETE never load it.
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { UPLOAD_COMPLETE_ATTRIBUTES, type EventPublisher, type UploadCompleteMessage } from '../ports/events.js';
import type { Notifier, ProvenanceEvent } from '../ports/notifier.js';
import { lazy } from '../lazy.js';
import { backendCall, DEFAULT_BACKEND_DEADLINE_MS } from './backend-call.js';

export interface PubSubOptions {
  projectId?: string;
  client?: PubSub;
  /** Each publish's deadline: past it the publish is `unavailable` (BACKEND_DEADLINE_SECONDS). */
  deadlineMs?: number;
}

/** One topic, opened on first use; batching off: one event is one message, sent now. */
class LazyTopic {
  private readonly topic: () => Promise<Topic>;
  private readonly deadlineMs: number;
  constructor(
    private readonly name: string,
    opts: PubSubOptions,
  ) {
    this.deadlineMs = opts.deadlineMs ?? DEFAULT_BACKEND_DEADLINE_MS;
    this.topic = lazy(async () => {
      const client =
        opts.client ??
        new (await import('@google-cloud/pubsub')).PubSub(opts.projectId ? { projectId: opts.projectId } : {});
      return client.topic(name, { batching: { maxMessages: 1, maxMilliseconds: 0 } });
    });
  }

  publish(json: object, attributes: Readonly<Record<string, string>>): Promise<void> {
    return backendCall(`pubsub publish to ${this.name}`, this.deadlineMs, async () => {
      await (await this.topic()).publishMessage({ json, attributes });
    });
  }
}

export class PubSubPublisher implements EventPublisher {
  private readonly topic: LazyTopic;
  constructor(opts: PubSubOptions & { topic: string }) {
    this.topic = new LazyTopic(opts.topic, opts);
  }

  publishUploadComplete(taskKey: string): Promise<void> {
    const message: UploadCompleteMessage = { taskKey };
    return this.topic.publish(message, UPLOAD_COMPLETE_ATTRIBUTES);
  }
}

export class PubSubNotifier implements Notifier {
  private readonly topic: LazyTopic;
  constructor(opts: PubSubOptions & { topic: string }) {
    this.topic = new LazyTopic(opts.topic, opts);
  }

  notify(event: ProvenanceEvent): Promise<void> {
    return this.topic.publish(event, { type: event.type });
  }
}
