// Charts with Chart.js (its UMD build, served by the projector as /dashboard/vendor/chart.umd.js).
// Times are plotted on a linear axis of epoch milliseconds, labelled in UTC, so no date adapter is
// needed and every chart shares the API's time zone.
const { Chart } = window;

const COLORS = ['#2457c5', '#b3261e', '#17703a', '#9a6200', '#6b3fa0', '#00798c', '#c2185b', '#455a64'];
export const color = (index) => COLORS[index % COLORS.length];

const utcLabel = (ms, withDay) => {
  const iso = new Date(ms).toISOString();
  return withDay ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
};

const timeAxis = (withDay) => ({ type: 'linear', ticks: { callback: (value) => utcLabel(value, withDay), maxTicksLimit: 10 }, title: { display: true, text: 'UTC' } });

/** Draws each mark ({ at, label }) as a dashed vertical line across the chart, labelled at the top. */
const milestoneMarks = (marks) => ({
  id: 'milestoneMarks',
  afterDatasetsDraw(chart) {
    const { ctx, chartArea, scales } = chart;
    ctx.save();
    marks.forEach((mark, index) => {
      const x = scales.x.getPixelForValue(mark.at);
      if (x < chartArea.left || x > chartArea.right) return;
      ctx.strokeStyle = color(index + 1);
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.fillStyle = color(index + 1);
      ctx.font = '12px system-ui, sans-serif';
      ctx.fillText(mark.label, x + 4, chartArea.top + 12 + 14 * index);
    });
    ctx.restore();
  },
});

/** The failure rate (line, left axis) and failed attempts (bars, right axis) per bucket, milestones marked. */
export const failureRateChart = (canvas, analysis, marks) => {
  const points = analysis.buckets.map((bucket) => ({ x: Date.parse(bucket.start), rate: bucket.failureRate, failed: bucket.failed }));
  const times = [...points.map((point) => point.x), ...marks.map((mark) => mark.at)];
  return new Chart(canvas, {
    data: {
      datasets: [
        { type: 'line', label: 'Failure rate (%)', data: points.map((point) => ({ x: point.x, y: point.rate === null ? null : point.rate * 100 })), borderColor: color(1), backgroundColor: color(1), yAxisID: 'rate', spanGaps: false, pointRadius: 2 },
        { type: 'bar', label: 'Failed attempts', data: points.map((point) => ({ x: point.x, y: point.failed })), backgroundColor: 'rgba(36, 87, 197, 0.25)', yAxisID: 'count' },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { ...timeAxis(false), min: Math.min(...times), max: Math.max(...times) },
        rate: { position: 'left', min: 0, max: 100, title: { display: true, text: 'failure rate %' } },
        count: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'failed attempts' } },
      },
      plugins: { tooltip: { callbacks: { title: (items) => utcLabel(items[0].parsed.x, true) } } },
    },
    plugins: [milestoneMarks(marks)],
  });
};

/** One line per series ({ label, points: [{ x, y }] }) over [from, to] (epoch ms), with the y axis titled. */
export const seriesChart = (canvas, series, yTitle, { min, max } = {}, { from, to }) =>
  new Chart(canvas, {
    type: 'line',
    data: { datasets: series.map((line, index) => ({ label: line.label, data: line.points, borderColor: color(index), backgroundColor: color(index), spanGaps: true, pointRadius: 2 })) },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { ...timeAxis(true), min: from, max: to }, y: { min, max, beginAtZero: true, title: { display: true, text: yTitle } } },
      plugins: { tooltip: { callbacks: { title: (items) => utcLabel(items[0].parsed.x, true) } } },
    },
  });
