// One incident: the failure rate over its window as a chart with the milestones marked on the same
// time axis, the milestones, the affected orgs and users, the timeline, the notes, and the
// post-mortem draft to download.
import { getJson, getText, query } from './api.js';
import { h, refusal, seconds, table, time } from './dom.js';
import { failureRateChart } from './charts.js';

const MILESTONES = [['impact-started', 'Impact started'], ['detected', 'Detected'], ['mitigated', 'Mitigated'], ['resolved', 'Resolved']];
const FILTER_OF_DIMENSION = { backend: 'backend', registryEndpoint: 'registryEndpoint', accountType: 'accountType' };
const MARGIN_MS = 15 * 60_000;

const milestoneList = (incident) =>
  h('dl', { class: 'milestones', id: 'milestones' }, MILESTONES.map(([key, label]) => {
    const milestone = incident.milestones[key];
    return [h('dt', {}, label), h('dd', { dataset: { milestone: key } }, milestone
      ? [time(milestone.at), h('span', { class: 'muted' }, ` — ${milestone.source === 'operator' ? `set by ${milestone.by}` : milestone.reason ?? milestone.by}`)]
      : h('span', { class: 'muted' }, 'not reached'))];
  }));

/** The failures analysis over the incident's window, filtered on what the incident is about. */
const failuresOf = (incident, signal) => {
  const times = MILESTONES.map(([key]) => incident.milestones[key]?.at).filter(Boolean).map(Date.parse);
  const from = Math.min(...times) - MARGIN_MS;
  const to = incident.milestones.resolved ? Date.parse(incident.milestones.resolved.at) + MARGIN_MS : Math.max(Date.now(), ...times);
  const bucket = (to - from) / 60_000 > 1400 ? 'hour' : 'minute';
  const filter = FILTER_OF_DIMENSION[incident.dimension] && incident.value !== '*' ? { [FILTER_OF_DIMENSION[incident.dimension]]: incident.value } : {};
  return getJson(`/incidents/analysis/failures${query({ bucket, from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...filter })}`, signal);
};

const affected = (impact) => {
  if (!impact) return h('p', { class: 'muted' }, 'No impact reported yet.');
  const byType = Object.entries(impact.byAccountType).map(([type, figures]) =>
    h('tr', {}, h('td', {}, type), h('td', {}, figures.accounts), h('td', {}, figures.builds), h('td', {}, figures.failedAttempts)));
  return [
    h('p', {}, `${impact.buildsAffected} builds affected: ${impact.buildsFailed} failed, ${impact.buildsRetried} retried, ${impact.buildsFellBack} fell back, ${impact.buildsRecovered} recovered (${impact.failedAttempts} of ${impact.attempts} attempts failed).`),
    table(['Account type', 'Accounts', 'Builds', 'Failed attempts'], byType, { id: 'impact-by-type' }),
    h('h2', {}, 'Most affected accounts'),
    table(['Account', 'Type', 'Failed attempts', 'Builds'], impact.topAccounts.map((account) =>
      h('tr', {}, h('td', {}, account.org), h('td', {}, account.accountType), h('td', {}, account.failedAttempts), h('td', {}, account.builds))), { id: 'top-accounts' }),
  ];
};

const download = (id, button, signal) => async () => {
  button.disabled = true;
  try {
    const markdown = await getText(`/incidents/${id}/postmortem${query({ format: 'md' })}`, signal);
    const link = h('a', { href: URL.createObjectURL(new Blob([markdown], { type: 'text/markdown' })), download: `postmortem-${id}.md` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  } finally {
    button.disabled = false;
  }
};

export const incidentPage = async (view, { id }, signal) => {
  view.append(h('p', {}, h('a', { href: '#/incidents' }, '← Incidents')));
  let incident;
  try {
    incident = await getJson(`/incidents/${encodeURIComponent(id)}`, signal);
  } catch (error) {
    view.append(refusal(error, 'This incident is'));
    return;
  }
  const button = h('button', { type: 'button', id: 'download-postmortem' }, 'Download post-mortem draft (Markdown)');
  button.addEventListener('click', download(incident.id, button, signal));
  const canvas = h('canvas', { id: 'failure-chart', 'aria-label': 'Failure rate over time with the milestones' });
  const { durations } = incident;
  view.append(
    h('h1', {}, incident.title, ' ', h('span', { class: `status status-${incident.status}` }, incident.status)),
    h('p', {}, `Rule ${incident.rule.name} on ${incident.dimension} = ${incident.value}; detected at ${(incident.detection.measured * 100).toFixed(1)} % over ${incident.detection.attempts} attempts. `,
      `Time to detect ${seconds(durations.timeToDetectSeconds)}, to mitigate ${seconds(durations.timeToMitigateSeconds)}, to resolve ${seconds(durations.timeToResolveSeconds)}.`),
    button,
    h('h2', {}, 'Failure rate'), h('div', { class: 'chart' }, canvas),
    h('h2', {}, 'Milestones'), milestoneList(incident),
    h('h2', {}, 'Affected orgs and users'), h('div', { id: 'affected' }, affected(incident.impact)),
    h('h2', {}, 'Timeline'), table(['Time (UTC)', 'Kind', 'Summary', 'Actor'], incident.timeline.map((entry) =>
      h('tr', { dataset: { kind: entry.kind } }, h('td', {}, time(entry.at)), h('td', {}, entry.kind), h('td', {}, entry.summary), h('td', {}, entry.actor))), { id: 'incident-timeline' }),
    h('h2', {}, 'Notes'), incident.notes.length === 0 ? h('p', { class: 'muted' }, 'No notes.')
      : h('ul', { id: 'notes' }, incident.notes.map((note) => h('li', {}, h('b', {}, `${time(note.at)} ${note.by}: `), note.text))),
  );
  try {
    const analysis = await failuresOf(incident, signal);
    const marks = MILESTONES.filter(([key]) => incident.milestones[key]).map(([key, label]) => ({ at: Date.parse(incident.milestones[key].at), label }));
    const chart = failureRateChart(canvas, analysis, marks);
    // Says the chart is drawn, and from how many buckets (the tests wait on it).
    canvas.dataset.buckets = String(analysis.buckets.length);
    signal.addEventListener('abort', () => chart.destroy());
  } catch (error) {
    canvas.parentElement.replaceWith(refusal(error, 'The failure rate is'));
  }
};
