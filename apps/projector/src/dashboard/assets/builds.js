// Builds: a filterable list that follows the status stream. Each status change re-reads that one
// build (waiting for the projection to reach the change's position) and places, updates or removes
// its row by the filters, so the list always shows the read model's view of each build.
import { followEvents, getJson, query } from './api.js';
import { h, refusal, status, table, time } from './dom.js';

const STATUSES = ['queued', 'running', 'pushing', 'pushed', 'failed', 'canceled', 'timed-out', 'expired'];
const FILTERS = ['org', 'repo', 'status', 'backend', 'failureClass', 'from', 'to'];

/** datetime-local values are read as UTC, as every time the API serves is. */
const toIso = (local) => (!local ? '' : local.length === 16 ? `${local}:00Z` : `${local}Z`);
const fromIso = (iso) => (iso ? iso.slice(0, 16) : '');

const filterForm = (filter) => {
  const input = (name, label, attributes = {}) => h('label', {}, label, h('input', { name, value: filter[name] ?? '', ...attributes }));
  const statusSelect = h('select', { name: 'status' }, h('option', { value: '' }, 'any'), STATUSES.map((value) => h('option', { value, selected: filter.status === value }, value)));
  const form = h('form', { class: 'filters', id: 'build-filters' },
    input('org', 'Org', { size: 12 }), input('repo', 'Repo', { size: 14 }), h('label', {}, 'Status', statusSelect),
    input('backend', 'Backend', { size: 12 }), input('failureClass', 'Failure class', { size: 14 }),
    input('from', 'Queued from (UTC)', { type: 'datetime-local', value: fromIso(filter.from) }), input('to', 'to (UTC)', { type: 'datetime-local', value: fromIso(filter.to) }),
    h('button', { type: 'submit' }, 'Filter'), h('a', { href: '#/builds' }, 'Clear'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    values.from = toIso(values.from);
    values.to = toIso(values.to);
    location.hash = `#/builds${query(values)}`;
  });
  return form;
};

const listed = (value) => (value ? value.split(',') : null);

/** Whether a build view passes the filters, as the API's list applies them. */
const matches = (filter, build) =>
  (!filter.org || build.org === filter.org) && (!filter.repo || build.repo === filter.repo) &&
  (!listed(filter.status) || listed(filter.status).includes(build.status)) &&
  (!listed(filter.backend) || listed(filter.backend).includes(build.backend ?? '')) &&
  (!listed(filter.failureClass) || listed(filter.failureClass).includes(build.failure?.failureClass ?? '')) &&
  (!filter.from || build.timestamps.queuedAt >= filter.from) && (!filter.to || build.timestamps.queuedAt <= filter.to);

const row = (build) =>
  h('tr', { dataset: { buildId: build.buildId } },
    h('td', {}, h('a', { href: `#/builds/${build.buildId}`, class: 'mono' }, build.buildId.slice(0, 8))),
    h('td', {}, build.org), h('td', {}, build.repo), h('td', { class: 'build-status' }, status(build.status)),
    h('td', {}, build.backend ?? '–'), h('td', {}, build.registryEndpoint ?? '–'), h('td', {}, build.failure?.failureClass ?? '–'),
    h('td', {}, build.attempt), h('td', {}, time(build.timestamps.queuedAt)));

export const buildsPage = async (view, { query: params }, signal) => {
  const filter = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) ?? '']));
  const live = h('span', { class: 'muted', id: 'live-state' }, 'connecting…');
  const body = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  view.append(h('h1', {}, 'Builds ', live), filterForm(filter));
  let page;
  try {
    page = await getJson(`/builds${query({ ...filter, limit: 50 })}`, signal);
  } catch (error) {
    view.append(refusal(error, 'The build list is'));
    return;
  }
  const rows = new Map();
  const show = (build, where) => {
    const element = row(build);
    rows.get(build.buildId)?.replaceWith(element);
    if (!rows.has(build.buildId)) (where === 'top' ? body.prepend(element) : body.append(element));
    rows.set(build.buildId, element);
    return element;
  };
  page.items.forEach((build) => show(build, 'bottom'));
  let cursor = page.nextCursor;
  more.hidden = !cursor;
  more.addEventListener('click', async () => {
    const next = await getJson(`/builds${query({ ...filter, limit: 50, cursor })}`, signal);
    next.items.forEach((build) => show(build, 'bottom'));
    cursor = next.nextCursor;
    more.hidden = !cursor;
  });
  view.append(table(['Build', 'Org', 'Repo', 'Status', 'Backend', 'Registry', 'Failure class', 'Attempt', 'Queued at (UTC)'], [], { id: 'builds' }), more);
  view.querySelector('#builds tbody').replaceWith(body);

  const onChange = async (change) => {
    const build = await getJson(`/builds/${change.buildId}?minPosition=${change.position}`, signal);
    if (matches(filter, build)) show(build, 'top').classList.add('flash');
    else if (rows.has(build.buildId)) {
      rows.get(build.buildId).remove();
      rows.delete(build.buildId);
    }
  };
  // One change at a time, in order: a later status must never be overwritten by an earlier one.
  let queue = Promise.resolve();
  const onEvent = (message) => {
    if (message.event !== 'status') return;
    const change = JSON.parse(message.data);
    queue = queue.then(() => onChange(change)).catch(() => {});
  };
  const onState = (state, error) => (live.textContent = state === 'live' ? '● live' : state === 'refused' ? `stream refused: ${error.message}` : 'reconnecting…');
  void followEvents(`/stream/builds${query({ org: filter.org })}`, onEvent, signal, onState);
};
