import { CliCommand } from './cli-command';
import { exportCommand } from './export.command';
import { importCommand } from './import.command';
import { rebuildCommand } from './rebuild.command';
import { verifyCommand } from './verify.command';

/** Every command of `npm run projector -- …`; each lives in its own file in this folder. */
export const CLI_COMMANDS: readonly CliCommand[] = [exportCommand, importCommand, rebuildCommand, verifyCommand];
