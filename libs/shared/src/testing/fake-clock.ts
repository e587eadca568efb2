import { Clock } from '../ports/clock';

/** A clock for tests: it says what it is told (a time or epoch milliseconds) and moves only when advanced. */
export class FakeClock extends Clock {
  private ms: number;

  constructor(at: string | number) {
    super();
    this.ms = typeof at === 'string' ? Date.parse(at) : at;
  }

  now(): Date {
    return new Date(this.ms);
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
