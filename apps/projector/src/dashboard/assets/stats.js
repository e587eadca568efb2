// Statistics: success rate, p95 build duration and p95 queue wait over time, one line per backend
// (and one for all backends), from GET /stats per backend.
import { getJson, query } from './api.js';
import { h, refusal } from './dom.js';
import { seriesChart } from './charts.js';

const RANGES = { hour: ['hour', 24, 'the last 24 hours'], day: ['day', 30, 'the last 30 days'], minute: ['minute', 120, 'the last 2 hours'] };
const FIGURES = [
  ['success', 'Success rate', '%', (bucket) => (bucket.successRate === null ? null : bucket.successRate * 100), { min: 0, max: 100 }],
  ['duration', 'p95 build duration', 'seconds', (bucket) => (bucket.buildDurationMs.count === 0 ? null : bucket.buildDurationMs.p95 / 1000), {}],
  ['wait', 'p95 queue wait', 'seconds', (bucket) => (bucket.queueWaitMs.count === 0 ? null : bucket.queueWaitMs.p95 / 1000), {}],
];

export const statsPage = async (view, { query: params }, signal) => {
  const [bucket, count, label] = RANGES[params.get('range')] ?? RANGES.hour;
  view.append(h('h1', {}, 'Statistics'), h('p', {}, `Per ${bucket}, over ${label} (UTC). Range: `,
    Object.entries(RANGES).flatMap(([key, [, , text]], index) => [
      ...(index > 0 ? [' · '] : []),
      key === (params.get('range') ?? 'hour') ? h('strong', {}, text) : h('a', { href: `#/stats${query({ range: key })}` }, text),
    ])));
  const to = new Date();
  const from = new Date(to.getTime() - (count - 1) * { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[bucket]);
  const range = { bucket, from: from.toISOString(), to: to.toISOString() };
  let backends;
  try {
    backends = (await getJson('/backends', signal)).items.map((route) => route.name);
  } catch (error) {
    view.append(refusal(error, 'Statistics by backend are'));
    return;
  }
  const reports = await Promise.all([
    getJson(`/stats${query(range)}`, signal).then((report) => ({ label: 'all backends', report }), (error) => ({ label: 'all backends', error })),
    ...backends.map((backend) => getJson(`/stats${query({ ...range, backend })}`, signal).then((report) => ({ label: backend, report }), (error) => ({ label: backend, error }))),
  ]);
  const readable = reports.filter((entry) => entry.report);
  if (readable.length === 0) {
    view.append(refusal(reports[0].error, 'Statistics by backend are'));
    return;
  }
  const refused = reports.filter((entry) => entry.error);
  if (refused.length > 0) view.append(refusal(refused[0].error, `Statistics of ${refused.map((entry) => entry.label).join(', ')}:`));
  const grid = h('div', { class: 'grid', id: 'stats' });
  view.append(grid);
  for (const [id, title, unit, value, bounds] of FIGURES) {
    const canvas = h('canvas', { id: `chart-${id}` });
    grid.append(h('div', {}, h('h2', {}, title), h('div', { class: 'chart' }, canvas)));
    const series = readable.map(({ label: name, report }) => ({ label: name, points: report.buckets.map((entry) => ({ x: Date.parse(entry.start), y: value(entry) })) }));
    const chart = seriesChart(canvas, series, unit, bounds, { from: Date.parse(readable[0].report.from ?? range.from), to: Date.parse(readable[0].report.to ?? range.to) });
    signal.addEventListener('abort', () => chart.destroy());
  }
};
