import { CliCommand } from './cli-command';

/** Every command of `npm run projector -- …`; each lives in its own file in this folder. */
export const CLI_COMMANDS: readonly CliCommand[] = [];
