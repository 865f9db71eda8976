// EventPublisher for npm start: delivers upload-complete to the assembler in
// this process, after the request that published it has been answered, and
// retries a failed delivery with backoff the way a Pub/Sub subscription would.
import type { EventPublisher } from '../ports/events.js';
import { log } from '../log.js';

export type Deliver = (taskKey: string) => Promise<unknown>;

export class InProcessPublisher implements EventPublisher {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly deliver: Deliver,
    private readonly retry = { attempts: 8, firstDelayMs: 100 },
  ) {}

  async publishUploadComplete(taskKey: string): Promise<void> {
    const run = this.run(taskKey).finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  private async run(taskKey: string): Promise<void> {
    await new Promise((r) => setImmediate(r));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deliver(taskKey);
        return;
      } catch (err) {
        if (attempt >= this.retry.attempts) {
          log('ERROR', 'upload-complete delivery failed; giving up', {
            taskKey,
            attempts: attempt,
            error: err,
          });
          return;
        }
        await new Promise((r) => setTimeout(r, this.retry.firstDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  /** Resolves when every delivery published so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all(this.pending);
  }
}
