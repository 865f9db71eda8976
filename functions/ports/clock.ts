// The clock port, so tests can move time (test/helpers/manual-clock.ts).
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
