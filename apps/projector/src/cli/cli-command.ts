import { AppConfig } from '@lib/shared';

/** One command of `npm run projector -- …`. `run` resolves with the exit code. */
export type CliCommand = Readonly<{
  name: string;
  /** e.g. `rebuild [projection…]` */
  usage: string;
  summary: string;
  help?: string;
  run: (args: readonly string[], config: AppConfig) => Promise<number>;
}>;

/** Bad arguments: printed without a stack, exit code 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}
