// The dashboard's shell: the token form, the navigation, and a hash router that mounts one page at
// a time (each page stops its streams and timers through the AbortSignal it is given).
import { token } from './api.js';
import { buildsPage } from './builds.js';
import { buildPage } from './build.js';
import { queuePage } from './queue.js';
import { incidentsPage } from './incidents.js';
import { incidentPage } from './incident.js';
import { statsPage } from './stats.js';

const ROUTES = [
  [/^\/builds\/([^/?]+)$/, 'builds', buildPage],
  [/^\/builds$/, 'builds', buildsPage],
  [/^\/queue$/, 'queue', queuePage],
  [/^\/incidents\/([^/?]+)$/, 'incidents', incidentPage],
  [/^\/incidents$/, 'incidents', incidentsPage],
  [/^\/stats$/, 'stats', statsPage],
];

const view = document.getElementById('view');
const form = document.getElementById('token-form');
let current = null;

const route = () => {
  const [path, search = ''] = location.hash.replace(/^#/, '').split('?');
  return { path: path || '/builds', params: new URLSearchParams(search) };
};

const mount = () => {
  current?.abort();
  current = new AbortController();
  view.replaceChildren();
  const signedIn = Boolean(token.get());
  form.hidden = signedIn;
  document.getElementById('session').hidden = !signedIn;
  if (!signedIn) return;
  document.getElementById('session-who').textContent = token.principal(token.get());
  const { path, params } = route();
  const match = ROUTES.map(([pattern, section, page]) => [pattern.exec(path), section, page]).find(([found]) => found);
  for (const link of document.querySelectorAll('[data-nav]')) link.classList.toggle('active', link.dataset.nav === match?.[1]);
  if (!match) {
    view.textContent = `No page at ${path}`;
    return;
  }
  const [found, , page] = match;
  page(view, { id: found[1] && decodeURIComponent(found[1]), query: params }, current.signal).catch((error) => {
    if (!current.signal.aborted) view.append(Object.assign(document.createElement('p'), { className: 'notice error', textContent: String(error?.message ?? error) }));
  });
};

form.addEventListener('submit', (event) => {
  event.preventDefault();
  token.set(form.elements.token.value);
  form.reset();
  mount();
});
document.getElementById('sign-out').addEventListener('click', () => {
  token.clear();
  mount();
});
window.addEventListener('unauthorized', (event) => {
  token.clear();
  mount();
  document.getElementById('token-error').textContent = event.detail?.detail ?? 'The token was refused.';
});
window.addEventListener('hashchange', mount);
mount();
