import type { Command } from '../cli/command';
import { auditExportCommand } from './audit-export.command';
import { BUILD_COMMANDS } from './builds.commands';
import { INCIDENT_COMMANDS } from './incidents.commands';
import { MACHINE_COMMANDS } from './machine.commands';
import { submitCommand } from './submit.command';

/** Every command, in the order `buildctl help` lists them. */
export const COMMANDS: readonly Command[] = [
  submitCommand,
  ...BUILD_COMMANDS,
  ...INCIDENT_COMMANDS,
  auditExportCommand,
  ...MACHINE_COMMANDS,
];
