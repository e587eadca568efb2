// Incidents: the list, newest detected first. Only unscoped roles may read incidents (they
// aggregate many orgs): any other role gets a plain notice instead of a broken page.
import { getJson, query } from './api.js';
import { h, refusal, seconds, status, table, time } from './dom.js';

export const incidentsPage = async (view, { query: params }, signal) => {
  const filter = { status: params.get('status') ?? '' };
  view.append(h('h1', {}, 'Incidents'), h('p', {}, 'Show: ',
    [['', 'all'], ['open', 'open'], ['resolved', 'resolved']].map(([value, label]) =>
      h('a', { href: `#/incidents${query({ status: value })}`, class: filter.status === value ? 'active' : '' }, label, ' '))));
  let page;
  try {
    page = await getJson(`/incidents${query({ ...filter, limit: 100 })}`, signal);
  } catch (error) {
    view.append(refusal(error, 'Incidents are'));
    return;
  }
  if (page.items.length === 0) {
    view.append(h('p', { class: 'muted' }, 'No incident.'));
    return;
  }
  view.append(table(['Incident', 'Status', 'About', 'Impact started', 'Detected', 'Mitigated', 'Resolved', 'Time to mitigate', 'Builds affected', 'Accounts (org / user)'],
    page.items.map((incident) => h('tr', { dataset: { incidentId: incident.id } },
      h('td', {}, h('a', { href: `#/incidents/${incident.id}` }, incident.title)), h('td', {}, status(incident.status)),
      h('td', {}, `${incident.dimension} = ${incident.value}`), h('td', {}, time(incident.milestones.impactStartedAt)), h('td', {}, time(incident.milestones.detectedAt)),
      h('td', {}, time(incident.milestones.mitigatedAt)), h('td', {}, time(incident.milestones.resolvedAt)), h('td', {}, seconds(incident.durations.timeToMitigateSeconds)),
      h('td', {}, incident.impact?.buildsAffected ?? '–'), h('td', {}, incident.impact ? `${incident.impact.accounts.org} / ${incident.impact.accounts.user}` : '–'))),
  { id: 'incidents' }));
};
