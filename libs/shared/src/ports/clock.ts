/** The wall clock, behind a port so tests and replays can fix time (STYLE.md rule 20). */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
