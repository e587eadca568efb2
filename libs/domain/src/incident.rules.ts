import { FAILURE_CLASSES, FailureClass } from './build.events';
import { InvalidIncidentRulesError } from './errors';
import { FailureRateRule, INCIDENT_DIMENSIONS, IncidentDimension, IncidentRule, QueueWaitRule } from './incident.events';

/**
 * The rules the detector runs unless configured otherwise (config/incident-rules.json holds the same).
 *
 * Failure-rate rules look at 30 minutes: off-peak an account type or a backend sees about ten
 * attempts per half hour, so a shorter window would leave `minBuilds` out of reach at night and an
 * overnight outage would flap open and shut. The cost is detection time: with every attempt
 * failing, a rate of 30% over 30 minutes is crossed after 9 minutes. 30% is well above the
 * background (user build errors are not counted; transient registry failures stay in single
 * digits) and well below a real outage. Ten attempts keep one unlucky account from opening an
 * incident for its whole account type. A quarter of an hour under the threshold confirms recovery.
 *
 * The queue-wait rule wants a sudden rise: a p90 wait of ten minutes or more that is also three
 * times the previous hour's, so a queue that is slow every Monday morning does not page anyone.
 */
export const DEFAULT_INCIDENT_RULES: readonly IncidentRule[] = [
  {
    kind: 'failure-rate',
    name: 'auth-failures',
    title: 'Builds are denied access to the registry',
    failureClasses: ['auth-denied'],
    groupBy: 'accountType',
    windowSeconds: 1800,
    thresholdRate: 0.3,
    minBuilds: 10,
    quietSeconds: 900,
  },
  {
    kind: 'failure-rate',
    name: 'push-failures',
    title: 'Pushes time out or find the registry unavailable',
    failureClasses: ['registry-timeout', 'registry-unavailable'],
    groupBy: 'backend',
    windowSeconds: 1800,
    thresholdRate: 0.3,
    minBuilds: 10,
    quietSeconds: 900,
  },
  {
    kind: 'failure-rate',
    name: 'infrastructure-failures',
    title: 'Build infrastructure fails',
    failureClasses: ['infrastructure'],
    groupBy: 'backend',
    windowSeconds: 1800,
    thresholdRate: 0.3,
    minBuilds: 10,
    quietSeconds: 900,
  },
  {
    kind: 'queue-wait',
    name: 'queue-wait-rise',
    title: 'Builds wait much longer than usual to start',
    groupBy: 'all',
    windowSeconds: 900,
    thresholdSeconds: 600,
    riseFactor: 3,
    baselineSeconds: 3600,
    minBuilds: 10,
    quietSeconds: 900,
  },
];

// ---------------------------------------------------------------- parsing

type Json = Readonly<Record<string, unknown>>;

const fail = (field: string, reason: string): never => {
  throw new InvalidIncidentRulesError(field, reason);
};

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

const onlyKeys = (value: Json, allowed: readonly string[], path: (key: string) => string): void => {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(path(key), `is not a known field (expected ${allowed.join(', ')})`);
  for (const key of allowed) if (!(key in value)) fail(path(key), 'is required');
};

/** A rule's name is part of every incident id it opens: kept to short kebab-case so ids and URLs stay plain. */
const RULE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

const name = (value: unknown, field: string): string =>
  typeof value === 'string' && RULE_NAME.test(value) ? value : fail(field, 'must be kebab-case: a lower-case letter, then letters, digits or dashes (at most 63)');

const title = (value: unknown, field: string): string =>
  typeof value === 'string' && value.trim() !== '' ? value : fail(field, 'must be a non-empty string');

const oneOf = <T extends string>(value: unknown, allowed: readonly T[], field: string): T =>
  typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : fail(field, `must be one of ${allowed.join(', ')}`);

/** Whole seconds or counts: fractions would only make the figures harder to read. */
const positiveInteger = (value: unknown, field: string): number =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fail(field, 'must be a positive whole number');

const positiveNumber = (value: unknown, field: string): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fail(field, 'must be a positive number');

const rate = (value: unknown, field: string): number =>
  typeof value === 'number' && value > 0 && value <= 1 ? value : fail(field, 'must be a rate in (0, 1]');

const atLeastOne = (value: unknown, field: string): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 1 ? value : fail(field, 'must be a number of at least 1 (a rise, not a fall)');

const failureClasses = (value: unknown, field: string): FailureClass[] => {
  if (!Array.isArray(value) || value.length === 0) return fail(field, 'must be a non-empty array of failure classes');
  const classes = value.map((item, index) => oneOf(item, FAILURE_CLASSES, `${field}[${index}]`));
  classes.forEach((item, index) => {
    if (classes.indexOf(item) !== index) fail(`${field}[${index}]`, `repeats ${item}`);
  });
  return classes;
};

const FAILURE_RATE_KEYS = ['kind', 'name', 'title', 'failureClasses', 'groupBy', 'windowSeconds', 'thresholdRate', 'minBuilds', 'quietSeconds'] as const;
const QUEUE_WAIT_KEYS = ['kind', 'name', 'title', 'groupBy', 'windowSeconds', 'thresholdSeconds', 'riseFactor', 'baselineSeconds', 'minBuilds', 'quietSeconds'] as const;

/** Builds the rule afresh, keys in the contract's order, so that the rule written into IncidentOpened is the same JSON whatever the input's key order. */
const failureRateRule = (rule: Json, path: string): FailureRateRule => {
  onlyKeys(rule, FAILURE_RATE_KEYS, (key) => `${path}.${key}`);
  return {
    kind: 'failure-rate',
    name: name(rule.name, `${path}.name`),
    title: title(rule.title, `${path}.title`),
    failureClasses: failureClasses(rule.failureClasses, `${path}.failureClasses`),
    groupBy: oneOf(rule.groupBy, INCIDENT_DIMENSIONS, `${path}.groupBy`),
    windowSeconds: positiveInteger(rule.windowSeconds, `${path}.windowSeconds`),
    thresholdRate: rate(rule.thresholdRate, `${path}.thresholdRate`),
    minBuilds: positiveInteger(rule.minBuilds, `${path}.minBuilds`),
    quietSeconds: positiveInteger(rule.quietSeconds, `${path}.quietSeconds`),
  };
};

/** A start has a backend but no registry endpoint yet: a queue-wait rule grouped by endpoint would never see anything. */
const QUEUE_WAIT_DIMENSIONS: readonly IncidentDimension[] = INCIDENT_DIMENSIONS.filter((dimension) => dimension !== 'registryEndpoint');

const queueWaitRule = (rule: Json, path: string): QueueWaitRule => {
  onlyKeys(rule, QUEUE_WAIT_KEYS, (key) => `${path}.${key}`);
  return {
    kind: 'queue-wait',
    name: name(rule.name, `${path}.name`),
    title: title(rule.title, `${path}.title`),
    groupBy: oneOf(rule.groupBy, QUEUE_WAIT_DIMENSIONS, `${path}.groupBy`),
    windowSeconds: positiveInteger(rule.windowSeconds, `${path}.windowSeconds`),
    thresholdSeconds: positiveNumber(rule.thresholdSeconds, `${path}.thresholdSeconds`),
    riseFactor: atLeastOne(rule.riseFactor, `${path}.riseFactor`),
    baselineSeconds: positiveInteger(rule.baselineSeconds, `${path}.baselineSeconds`),
    minBuilds: positiveInteger(rule.minBuilds, `${path}.minBuilds`),
    quietSeconds: positiveInteger(rule.quietSeconds, `${path}.quietSeconds`),
  };
};

const parseRule = (rule: unknown, path: string): IncidentRule => {
  if (!isObject(rule)) return fail(path, 'must be an object');
  const kind = oneOf(rule.kind, ['failure-rate', 'queue-wait'] as const, `${path}.kind`);
  return kind === 'failure-rate' ? failureRateRule(rule, path) : queueWaitRule(rule, path);
};

/**
 * Validates the parsed JSON of a rules file, `{ "rules": [...] }`, and returns the rules in
 * canonical form. Strict: any unknown key, unknown kind, failure class or dimension, a window that
 * is not a positive whole number of seconds, a rate outside (0, 1] or a repeated name throws an
 * InvalidIncidentRulesError naming the field (`rules[2].thresholdRate`). An empty list is allowed:
 * it turns detection off.
 */
export const parseIncidentRules = (json: unknown): IncidentRule[] => {
  if (!isObject(json)) return fail('(root)', 'must be an object with a "rules" array');
  onlyKeys(json, ['rules'], (key) => key);
  if (!Array.isArray(json.rules)) return fail('rules', 'must be an array');
  const rules = json.rules.map((rule, index) => parseRule(rule, `rules[${index}]`));
  rules.forEach((rule, index) => {
    const first = rules.findIndex((other) => other.name === rule.name);
    if (first !== index) fail(`rules[${index}].name`, `repeats the name ${rule.name} of rules[${first}]`);
  });
  return rules;
};
