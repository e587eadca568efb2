import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_INCIDENT_RULES } from '@lib/domain';
import { ConfigError } from '@lib/shared';
import { loadIncidentRules } from './incident-rules.loader';

describe('loadIncidentRules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'incident-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const problemOf = (path: string): string => {
    try {
      loadIncidentRules({ INCIDENT_RULES_FILE: path });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const [problem] = (error as ConfigError).problems;
      expect(problem.variable).toBe('INCIDENT_RULES_FILE');
      return problem.message;
    }
    throw new Error(`${path} was accepted`);
  };

  it('given no file, uses the built-in rules, which are what config/incident-rules.json says', () => {
    expect(loadIncidentRules({})).toBe(DEFAULT_INCIDENT_RULES);
    expect(loadIncidentRules({ INCIDENT_RULES_FILE: join(__dirname, '../../../../config/incident-rules.json') })).toEqual(DEFAULT_INCIDENT_RULES);
  });

  it('given a file of its own, uses its rules', () => {
    const rules = { rules: [{ ...DEFAULT_INCIDENT_RULES[0], name: 'org-auth', thresholdRate: 0.5 }] };
    expect(loadIncidentRules({ INCIDENT_RULES_FILE: file('own.json', JSON.stringify(rules)) })).toEqual(rules.rules);
  });

  it.each([
    ['a missing file', () => join(dir, 'missing.json'), /missing\.json: cannot be read \(ENOENT\)/],
    ['a file that is not JSON', () => file('broken.json', '{ "rules": ['), /broken\.json: is not JSON/],
    ['a rule with a bad field', () => file('bad.json', JSON.stringify({ rules: [{ ...DEFAULT_INCIDENT_RULES[0], thresholdRate: 2 }] })), /bad\.json: .*rules\[0\]\.thresholdRate/],
  ])('given %s, refuses to start, naming the file and what is wrong', (_, path, message) => {
    expect(problemOf(path())).toMatch(message);
  });
});
