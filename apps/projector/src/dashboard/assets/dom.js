// Small helpers to build the pages: elements from data (text is always set as text, never as HTML).

export const h = (tag, attributes = {}, ...children) => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
};

export const status = (value) => h('span', { class: `status status-${value}`, dataset: { status: value } }, value);

export const time = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '–');
export const clock = (ms) => new Date(ms).toISOString().slice(11, 16);

export const seconds = (value) => {
  if (value === null || value === undefined) return '–';
  if (value < 90) return `${Math.round(value)} s`;
  if (value < 5400) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
};

export const percent = (rate) => (rate === null || rate === undefined ? '–' : `${(rate * 100).toFixed(1)} %`);

export const table = (columns, rows, attributes = {}) =>
  h('table', attributes, h('thead', {}, h('tr', {}, columns.map((column) => h('th', {}, column)))), h('tbody', {}, rows));

/** What a page shows when the API refused it: a role without the permission, or an org out of scope. */
export const refusal = (error, what) =>
  error?.status === 403
    ? h('p', { class: 'notice', 'data-refused': 'role' }, `${what} not available for your role`, error.problem?.detail ? h('span', { class: 'muted' }, ` (${error.problem.detail})`) : null)
    : h('p', { class: 'notice error' }, `${what} could not be loaded: ${error?.message ?? error}`);
