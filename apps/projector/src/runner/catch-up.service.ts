import { Injectable } from '@nestjs/common';
import { HttpProblem } from '@lib/shared';
import { ProjectionRunner } from './projection-runner';

export const READ_WAIT_LIMIT_MS = 5000;

/** Read-your-writes: holds a query until the read models include a given position, briefly. */
@Injectable()
export class CatchUp {
  constructor(private readonly runner: ProjectionRunner) {}

  async reach(position: number): Promise<void> {
    if (await this.runner.waitFor(position, READ_WAIT_LIMIT_MS)) return;
    throw new HttpProblem(503, 'projection-behind', 'Read model not caught up',
      `The read models have not reached position ${position} within ${READ_WAIT_LIMIT_MS} ms (they are at ${this.runner.position}).`,
      undefined, { 'retry-after': '1' });
  }
}
