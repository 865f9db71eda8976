// What the assemble bench's driver and worker agree on.
import type { Identity } from '../functions/domain/task.js';

export const OWNER: Identity = {
  issuer: 'https://accounts.google.com',
  subject: 'bench',
  email: 'builder@example.com',
};
