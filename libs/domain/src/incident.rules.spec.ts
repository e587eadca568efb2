import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidIncidentRulesError } from './errors';
import { DEFAULT_INCIDENT_RULES, parseIncidentRules } from './incident.rules';

const RULES_FILE = join(__dirname, '../../../config/incident-rules.json');

/** A valid file, as JSON, to break one field at a time. */
const validFile = (): { rules: Record<string, unknown>[] } => JSON.parse(JSON.stringify({ rules: DEFAULT_INCIDENT_RULES }));

const withRule = (index: number, change: (rule: Record<string, unknown>) => void) => {
  const file = validFile();
  change(file.rules[index]);
  return file;
};

const catchError = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
};

describe('incident rules', () => {
  it('given the repository rules file, when parsed, then it holds exactly the default rules', () => {
    const json: unknown = JSON.parse(readFileSync(RULES_FILE, 'utf8'));
    expect(parseIncidentRules(json)).toStrictEqual(DEFAULT_INCIDENT_RULES);
  });

  it('given the defaults, then they cover auth, push and infrastructure failures and a rise in queue wait', () => {
    expect(DEFAULT_INCIDENT_RULES.map((rule) => [rule.name, rule.kind, rule.groupBy, rule.kind === 'failure-rate' ? rule.failureClasses : null])).toEqual([
      ['auth-failures', 'failure-rate', 'accountType', ['auth-denied']],
      ['push-failures', 'failure-rate', 'backend', ['registry-timeout', 'registry-unavailable']],
      ['infrastructure-failures', 'failure-rate', 'backend', ['infrastructure']],
      ['queue-wait-rise', 'queue-wait', 'all', null],
    ]);
  });

  it('given a rule with its keys in another order, when parsed, then it comes back in the canonical order (the JSON written into incidents is stable)', () => {
    const [rule] = DEFAULT_INCIDENT_RULES;
    const shuffled = Object.fromEntries(Object.entries(rule).reverse());
    expect(JSON.stringify(parseIncidentRules({ rules: [shuffled] }))).toBe(JSON.stringify([rule]));
  });

  it('given an empty list, when parsed, then there are no rules (detection off)', () => {
    expect(parseIncidentRules({ rules: [] })).toEqual([]);
  });

  it('given a rate of exactly 1 and a rise factor of exactly 1, then they are accepted', () => {
    const file = withRule(0, (rule) => (rule.thresholdRate = 1));
    file.rules[3].riseFactor = 1;
    expect(parseIncidentRules(file)[0]).toMatchObject({ thresholdRate: 1 });
  });

  it.each<[string, unknown, string]>([
    ['not an object', null, '(root)'],
    ['an array at the root', [], '(root)'],
    ['no rules key', {}, 'rules'],
    ['rules not an array', { rules: {} }, 'rules'],
    ['an unknown key at the root', { ...validFile(), version: 1 }, 'version'],
    ['a rule that is not an object', { rules: [42] }, 'rules[0]'],
    ['an unknown kind', withRule(1, (rule) => (rule.kind = 'error-budget')), 'rules[1].kind'],
    ['no kind', withRule(1, (rule) => delete rule.kind), 'rules[1].kind'],
    ['an unknown failure class', withRule(1, (rule) => (rule.failureClasses = ['registry-timeout', 'registry-on-fire'])), 'rules[1].failureClasses[1]'],
    ['no failure class', withRule(0, (rule) => (rule.failureClasses = [])), 'rules[0].failureClasses'],
    ['a repeated failure class', withRule(1, (rule) => (rule.failureClasses = ['registry-timeout', 'registry-timeout'])), 'rules[1].failureClasses[1]'],
    ['an unknown dimension', withRule(0, (rule) => (rule.groupBy = 'country')), 'rules[0].groupBy'],
    ['a queue-wait rule by registry endpoint (starts have none)', withRule(3, (rule) => (rule.groupBy = 'registryEndpoint')), 'rules[3].groupBy'],
    ['a zero window', withRule(2, (rule) => (rule.windowSeconds = 0)), 'rules[2].windowSeconds'],
    ['a negative window', withRule(2, (rule) => (rule.windowSeconds = -600)), 'rules[2].windowSeconds'],
    ['a fractional window', withRule(2, (rule) => (rule.windowSeconds = 600.5)), 'rules[2].windowSeconds'],
    ['a window as a string', withRule(2, (rule) => (rule.windowSeconds = '600')), 'rules[2].windowSeconds'],
    ['a zero quiet period', withRule(0, (rule) => (rule.quietSeconds = 0)), 'rules[0].quietSeconds'],
    ['a zero baseline', withRule(3, (rule) => (rule.baselineSeconds = 0)), 'rules[3].baselineSeconds'],
    ['a rate of 0', withRule(2, (rule) => (rule.thresholdRate = 0)), 'rules[2].thresholdRate'],
    ['a rate over 1', withRule(2, (rule) => (rule.thresholdRate = 1.01)), 'rules[2].thresholdRate'],
    ['a rate in percent', withRule(2, (rule) => (rule.thresholdRate = 30)), 'rules[2].thresholdRate'],
    ['a rate that is NaN', withRule(2, (rule) => (rule.thresholdRate = Number.NaN)), 'rules[2].thresholdRate'],
    ['no minimum of builds', withRule(0, (rule) => (rule.minBuilds = 0)), 'rules[0].minBuilds'],
    ['a wait threshold of 0', withRule(3, (rule) => (rule.thresholdSeconds = 0)), 'rules[3].thresholdSeconds'],
    ['a rise factor under 1 (a fall)', withRule(3, (rule) => (rule.riseFactor = 0.5)), 'rules[3].riseFactor'],
    ['a missing field', withRule(0, (rule) => delete rule.quietSeconds), 'rules[0].quietSeconds'],
    ['an unknown field', withRule(1, (rule) => (rule.severity = 'page')), 'rules[1].severity'],
    ['a field of the other kind', withRule(0, (rule) => (rule.thresholdSeconds = 600)), 'rules[0].thresholdSeconds'],
    ['a name that is not kebab-case', withRule(0, (rule) => (rule.name = 'Auth Failures')), 'rules[0].name'],
    ['an empty title', withRule(0, (rule) => (rule.title = '  ')), 'rules[0].title'],
    ['a repeated name', withRule(2, (rule) => (rule.name = 'auth-failures')), 'rules[2].name'],
  ])('given %s, when parsed, then it is refused naming the field', (_, json, field) => {
    const error = catchError(() => parseIncidentRules(json));
    expect(error).toBeInstanceOf(InvalidIncidentRulesError);
    expect(error).toMatchObject({ code: 'invalid-incident-rules', field });
    expect((error as Error).message).toContain(field);
  });
});
