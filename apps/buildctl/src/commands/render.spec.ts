import { IncidentView } from '../../../projector/src/incidents/incident-view';
import { evolveIncident } from '../../../projector/src/incidents/incidents.projection';
import { incidentLog, recordIncidentEvents } from '../../../projector/src/incidents/testing/incident-fixtures';
import { summarizeData } from './builds.format';
import { renderIncident } from './incidents.commands';

describe('renderIncident', () => {
  // The document as the projection folds it from the fixtures' whole incident: opened, mitigated, resolved.
  const incident = recordIncidentEvents(incidentLog()).reduce<IncidentView | null>(evolveIncident, null)!;

  it('prints the effective milestones in UTC (naming an operator\'s correction) with the time from the impact start, then the timeline', () => {
    const text = renderIncident(incident);
    expect(text).toMatch(/^status:\s+resolved$/m);
    expect(text).toMatch(/^scope:\s+registryEndpoint=registry-v1$/m);
    expect(text).toMatch(/^impact started:\s+2026-11-16 09:00:00Z$/m);
    expect(text).toMatch(/^detected:\s+2026-11-16 09:05:00Z, after 5m 00s$/m);
    expect(text).toMatch(/^mitigated:\s+2026-11-16 09:30:00Z \(set by user:sre-bob\), after 30m 00s$/m);
    expect(text).toMatch(/^resolved:\s+2026-11-16 09:55:00Z, after 55m 00s$/m);
    const timeline = text.slice(text.indexOf('timeline:\n') + 'timeline:\n'.length).split('\n');
    expect(timeline[0]).toMatch(/^TIME \(UTC\)\s+KIND\s+ACTOR\s+SUMMARY$/);
    expect(timeline).toHaveLength(incident.timeline.length + 1);
    expect(timeline.some((line) => /^2026-11-16 09:12:00Z\s+circuit-opened\s/.test(line))).toBe(true);
  });
});

describe('summarizeData', () => {
  it('shows an event\'s own scalar fields, not what every build event repeats', () => {
    expect(summarizeData({ buildId: 'b', org: 'acme', repo: 'hello', failureClass: 'auth-denied', attempt: 2, backend: null, source: { git: {} } })).toBe('failureClass=auth-denied attempt=2');
  });
});
