import { readFileSync } from 'node:fs';
import { DEFAULT_INCIDENT_RULES, IncidentRule, InvalidIncidentRulesError, parseIncidentRules } from '@lib/domain';
import { AppConfig, ConfigError } from '@lib/shared';

/**
 * The detector's rules: the file INCIDENT_RULES_FILE names, or the built-in defaults (the same as
 * config/incident-rules.json). A file that cannot be read or is not valid stops the start-up with
 * a ConfigError naming the file and the field at fault: a detector with half its rules would miss
 * incidents silently.
 */
export const loadIncidentRules = (config: Pick<AppConfig, 'INCIDENT_RULES_FILE'>): readonly IncidentRule[] => {
  const file = config.INCIDENT_RULES_FILE;
  if (!file) return DEFAULT_INCIDENT_RULES;
  const fail = (message: string): never => {
    throw new ConfigError([{ variable: 'INCIDENT_RULES_FILE', message: `${file}: ${message}` }]);
  };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    fail(`cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(`is not JSON (${(error as Error).message})`);
  }
  try {
    return parseIncidentRules(json);
  } catch (error) {
    if (error instanceof InvalidIncidentRulesError) return fail(error.message);
    throw error;
  }
};
