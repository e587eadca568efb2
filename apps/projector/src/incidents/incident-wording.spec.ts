import { QueueWaitRule } from '@lib/domain';
import { describeDuration, describeMeasured, describePlace, describeScope, describeThreshold } from './incident-wording';
import { RULE } from './testing/incident-fixtures';

const QUEUE_RULE: QueueWaitRule = {
  kind: 'queue-wait', name: 'queue-wait-p90', title: 'Builds wait long to start', groupBy: 'all', windowSeconds: 600, thresholdSeconds: 300,
  riseFactor: 3, baselineSeconds: 3600, minBuilds: 5, quietSeconds: 900,
};

describe('incident wording', () => {
  it('puts durations in hours, minutes and seconds, with the exact seconds', () => {
    expect(describeDuration(3900)).toBe('1h 5m 0s (3900 s)');
    expect(describeDuration(59.5)).toBe('59s (59.5 s)');
    expect(describeDuration(0)).toBe('0s (0 s)');
    // An operator's correction may put a milestone before the impact start: shown as it is, not hidden.
    expect(describeDuration(-90)).toBe('-1m 30s (-90 s)');
    expect(describeDuration(null)).toBe('—');
  });

  it('describes both kinds of rule: threshold and measured figure', () => {
    expect(describeThreshold(RULE)).toBe('30.0% or more of the attempts ending in auth-denied within 300 s, per registry endpoint, over at least 10 attempts; resolved after 600 s under it');
    expect(describeThreshold(QUEUE_RULE)).toBe('p90 queue wait of 300 s or more within 600 s and at least 3× the p90 of the 3600 s before, over all builds, over at least 5 starts; resolved after 900 s under it');
    expect(describeMeasured(RULE, 0.4567, 21, 46)).toBe('failure rate 45.7% (21 of 46 attempts)');
    expect(describeMeasured(QUEUE_RULE, 412.46, 6, 9)).toBe('p90 queue wait 412.5 s (6 of 9 starts waited 300 s or more)');
  });

  it('names the builds each dimension is about, and places with "-" for what an event did not name', () => {
    expect(describeScope('all', '*')).toBe('all builds');
    expect(describeScope('backend', 'new-backend')).toBe('builds on backend new-backend');
    expect(describeScope('registryEndpoint', 'registry-v1')).toBe('pushes through registry endpoint registry-v1');
    expect(describeScope('accountType', 'org')).toBe('builds of org accounts');
    expect(describeScope('org', 'acme')).toBe('builds of account acme');
    expect(describePlace('new-backend', null)).toBe('new-backend → -');
  });
});
