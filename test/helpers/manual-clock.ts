// A Clock that only moves when told to, so tests (and the sweep bench) can
// move time without waiting.
import type { Clock } from '../../functions/ports/clock.js';

export class ManualClock implements Clock {
  private ms: number;
  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.ms = typeof start === 'number' ? start : start.getTime();
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  set(at: Date): void {
    this.ms = at.getTime();
  }
}
