// Queue and capacity: queued and running per org and per backend with the oldest wait, and the
// backends and registry endpoints with their circuit and drain state. Re-read on every status
// change of the stream (at most once a second) and every 10 s, so waits keep growing on screen.
import { followEvents, getJson } from './api.js';
import { h, percent, refusal, seconds, status, table, time } from './dom.js';

const cards = (totals) => h('div', { class: 'cards', id: 'queue-totals' }, Object.entries(totals).map(([name, value]) => h('div', { class: 'card' }, h('span', { class: 'muted' }, name), h('b', {}, value))));

const orgsTable = (orgs) =>
  orgs.length === 0 ? h('p', { class: 'muted' }, 'No org has work queued or running.')
    : table(['Org', 'Queued', 'Ready', 'Running', 'Pushing', 'Oldest wait'], orgs.map((org) =>
      h('tr', { dataset: { org: org.org } }, h('td', {}, org.org), h('td', {}, org.queued), h('td', {}, org.ready), h('td', {}, org.running), h('td', {}, org.pushing), h('td', {}, seconds(org.oldestWaitSeconds)))), { id: 'queue-orgs' });

const backendsTable = (backends) =>
  backends.length === 0 ? h('p', { class: 'muted' }, 'No backend is running a build.')
    : table(['Backend', 'Running', 'Pushing', 'Orgs'], backends.map((backend) =>
      h('tr', {}, h('td', {}, backend.backend), h('td', {}, backend.running), h('td', {}, backend.pushing), h('td', {}, backend.orgs))), { id: 'queue-backends' });

const routesTable = (id, routes) =>
  routes.length === 0 ? h('p', { class: 'muted' }, 'None has reported yet.')
    : table(['Name', 'Circuit', 'Since', 'Drained', 'Recent (ok / failed)', 'Failure rate', 'Last failure', 'Last success'], routes.map((route) =>
      h('tr', { dataset: { route: route.name } },
        h('td', {}, route.name), h('td', {}, status(route.circuit)), h('td', {}, time(route.circuitSince)),
        h('td', {}, route.drained ? [status('drained'), ` ${route.drainReason ?? ''}${route.drainedBy ? ` (${route.drainedBy})` : ''}`] : 'no'),
        h('td', {}, `${route.recent.ok} / ${route.recent.failed} in ${route.recent.minutes} min`), h('td', {}, percent(route.recent.failureRate)),
        h('td', {}, route.lastFailure ? `${route.lastFailure.failureClass} at ${time(route.lastFailure.at)}` : '–'), h('td', {}, time(route.lastSuccessAt)))), { id });

/** One section's content, or the reason it cannot be shown. */
const section = async (load, render, what) => {
  try {
    return render(await load());
  } catch (error) {
    return refusal(error, what);
  }
};

export const queuePage = async (view, _route, signal) => {
  const content = h('div', { id: 'queue-page' });
  const stamp = h('span', { class: 'muted' });
  view.append(h('h1', {}, 'Queue and capacity ', stamp), content);
  const render = async () => {
    const [queue, backends, endpoints] = await Promise.all([
      section(() => getJson('/queue', signal), (overview) => [cards(overview.totals), h('h2', {}, 'Per org'), orgsTable(overview.orgs), h('h2', {}, 'Per backend'), backendsTable(overview.backends)], 'The queue is'),
      section(() => getJson('/backends', signal), (answer) => routesTable('backends', answer.items), 'Backends are'),
      section(() => getJson('/registry-endpoints', signal), (answer) => routesTable('registry-endpoints', answer.items), 'Registry endpoints are'),
    ]);
    if (signal.aborted) return;
    content.replaceChildren(...[queue].flat(), h('h2', {}, 'Backends'), backends, h('h2', {}, 'Registry endpoints'), endpoints);
    stamp.textContent = `as of ${new Date().toISOString().slice(11, 19)} UTC`;
  };
  await render();
  let pending = null;
  const soon = () => (pending ??= setTimeout(() => { pending = null; void render(); }, 1000));
  const timer = setInterval(() => void render(), 10_000);
  signal.addEventListener('abort', () => { clearInterval(timer); clearTimeout(pending); });
  void followEvents('/stream/builds', (message) => message.event === 'status' && soon(), signal);
};
