// One build: its summary, its lifecycle as a timeline (every event with time, actor, backend,
// registry, fallbacks and retries), and its log, followed live from the command API while it runs.
import { followEvents, getJson, orchestratorUrl, query } from './api.js';
import { h, refusal, status, table, time } from './dom.js';

const DETAIL_KEYS = ['phase', 'failureClass', 'message', 'scope', 'from', 'to', 'reason', 'notBefore', 'node', 'imageId', 'registry', 'repository', 'digest', 'tag', 'priority'];

const details = (data) =>
  DETAIL_KEYS.filter((key) => data[key] !== undefined && data[key] !== null && typeof data[key] !== 'object')
    .map((key) => `${key}: ${data[key]}`).join(' · ');

const timeline = (events) =>
  table(['Time (UTC)', 'Event', 'Actor', 'Attempt', 'Backend', 'Registry endpoint', 'Details'], events.map((event) =>
    h('tr', { dataset: { eventType: event.type } },
      h('td', {}, time(event.occurredAt)), h('td', {}, h('b', {}, event.type)), h('td', { class: 'actor' }, event.actor),
      h('td', {}, event.data.attempt ?? ''), h('td', {}, event.data.backend ?? ''), h('td', {}, event.data.registryEndpoint ?? ''),
      h('td', { class: 'muted' }, details(event.data)))), { id: 'timeline' });

const card = (label, value) => h('div', { class: 'card' }, h('span', { class: 'muted' }, label), h('b', {}, value));

const summary = (build) =>
  h('div', { id: 'build-summary' },
    h('div', { class: 'cards' },
      card('Status', status(build.status)), card('Org / repo', `${build.org} / ${build.repo}`), card('Attempt', `${build.attempt} (${build.retries} retries)`),
      card('Backend', build.backend ? `${build.backend}${build.node ? ` on ${build.node}` : ''}` : '–'), card('Registry endpoint', build.registryEndpoint ?? '–'),
      card('Build duration', build.buildDurationMs === null ? '–' : `${(build.buildDurationMs / 1000).toFixed(1)} s`)),
    build.failure ? h('p', { class: 'error' }, `Failed in ${build.failure.phase} (${build.failure.failureClass}): ${build.failure.message}`) : null,
    build.retriesExhausted ? h('p', { class: 'error' }, `Not retried again: ${build.retriesExhausted}`) : null,
    build.digest ? h('p', {}, 'Pushed ', h('code', {}, `${build.registry}/${build.repository}@${build.digest}`)) : null,
    build.fallbacks.length > 0
      ? [h('h2', {}, 'Fallbacks'), table(['At', 'Scope', 'From', 'To', 'Reason'], build.fallbacks.map((fallback) =>
        h('tr', {}, h('td', {}, time(fallback.at)), h('td', {}, fallback.scope), h('td', {}, fallback.from), h('td', {}, fallback.to), h('td', {}, fallback.reason))))]
      : null);

/** The log as the command API streams it: `log` events with new text, then one `end`. */
const followLog = async (buildId, pre, state, signal) => {
  const url = `${await orchestratorUrl()}/builds/${encodeURIComponent(buildId)}/logs${query({ follow: 'true' })}`;
  await followEvents(url, (message) => {
    if (message.event === 'log') {
      pre.append(message.data.endsWith('\n') ? message.data : `${message.data}\n`);
      pre.scrollTop = pre.scrollHeight;
    } else if (message.event === 'end') state.textContent = `ended: ${JSON.parse(message.data).status}`;
  }, signal, (name, error) => (state.textContent = name === 'live' ? '● following' : name === 'refused' ? `log not available: ${error.message}` : 'reconnecting…'));
};

export const buildPage = async (view, { id }, signal) => {
  view.append(h('p', {}, h('a', { href: '#/builds' }, '← Builds')));
  const load = () => Promise.all([getJson(`/builds/${encodeURIComponent(id)}`, signal), getJson(`/builds/${encodeURIComponent(id)}/events`, signal)]);
  let build, events;
  try {
    [build, events] = await load();
  } catch (error) {
    view.append(refusal(error, 'This build is'));
    return;
  }
  const head = h('h1', {}, 'Build ', h('span', { class: 'mono' }, build.buildId));
  let shown = [summary(build), timeline(events)];
  const logState = h('span', { class: 'muted', id: 'log-state' }, 'connecting…');
  const pre = h('pre', { class: 'log', id: 'log' });
  view.append(head, shown[0], h('h2', {}, 'Lifecycle'), shown[1], h('h2', {}, 'Log ', logState), pre);

  const refresh = async (position) => {
    await getJson(`/builds/${encodeURIComponent(id)}?minPosition=${position}`, signal);
    [build, events] = await load();
    const next = [summary(build), timeline(events)];
    shown.forEach((element, index) => element.replaceWith(next[index]));
    shown = next;
  };
  let queue = Promise.resolve();
  void followEvents(`/stream/builds${query({ org: build.org })}`, (message) => {
    const change = message.event === 'status' ? JSON.parse(message.data) : null;
    if (change?.buildId === id) queue = queue.then(() => refresh(change.position)).catch(() => {});
  }, signal);
  void followLog(id, pre, logState, signal);
};
