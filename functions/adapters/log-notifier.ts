// Notifier for npm start and EVENTS=none: the event goes to the log, where a
// local run can watch it.
import { log } from '../log.js';
import type { Notifier, ProvenanceEvent } from '../ports/notifier.js';

export class LogNotifier implements Notifier {
  async notify(event: ProvenanceEvent): Promise<void> {
    log('INFO', `event ${event.type}`, { event });
  }
}
