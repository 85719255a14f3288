/* global document, ResizeObserver */
import { formatCount, formatMinute } from './audience-format.js';
import { renderTable } from './audience-table.js';

/** Series colours: distinguishable, and each at least 3:1 against the white chart background. */
const COLOURS = ['#1f5fbf', '#b3261e', '#1b7a3a', '#8a4b00', '#6b3fa0', '#00727a', '#a3005f', '#4d4d4d'];

/** Counts are whole: the y axis steps by whole numbers only. */
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000];

/** The x axis steps by whole minutes, in seconds. */
const MINUTE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((minutes) => minutes * 60);

const CHART_HEIGHT = 260;

/** The x range: the broadcast's minutes with half a minute either side, so one minute (or a bar) is drawn in the middle, not on an edge. */
function minuteRange(u) {
  // From the data, not the arguments: uPlot widens a single time point to a whole day first.
  const minutes = u.data[0];
  if (minutes.length === 0) return [Date.now() / 1000 - 60, Date.now() / 1000];
  return [minutes[0] - 30, minutes[minutes.length - 1] + 30];
}

/** The uPlot options of a chart view, `width` wide. */
function chartOptions(uPlot, view, width) {
  const bars = view.kind === 'bars';
  return {
    width,
    height: CHART_HEIGHT,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: minuteRange }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] } },
    axes: [
      { space: 60, incrs: MINUTE_STEPS, values: (_u, splits) => splits.map((split) => formatMinute(split * 1000)) },
      { incrs: COUNT_STEPS, values: (_u, splits) => splits.map((split) => formatCount(split)) },
    ],
    series: [
      {},
      ...view.series.map((entry, index) => ({
        label: entry.label,
        stroke: COLOURS[index % COLOURS.length],
        width: 2,
        spanGaps: false,
        ...(bars ? { fill: COLOURS[index % COLOURS.length], paths: uPlot.paths.bars({ size: [0.4, 24], align: index === 0 ? -1 : 1 }) } : {}),
      })),
    ],
  };
}

/** The chart's own legend: a list, since uPlot's is hidden (our table says the numbers). */
function legend(view) {
  const list = document.createElement('ul');
  list.className = 'legend';
  view.series.forEach((entry, index) => {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.setAttribute('aria-hidden', 'true');
    swatch.style.backgroundColor = COLOURS[index % COLOURS.length];
    item.append(swatch, document.createTextNode(entry.label));
    list.append(item);
  });
  return list;
}

/**
 * One chart and its table, side by side in a section headed by the chart's title. The canvas is
 * an image to assistive technology, labelled to say the table beside it holds the same numbers.
 * Returns the section and a `destroy` that frees the plot and its resize observer.
 */
export function renderChart(uPlot, view) {
  const section = document.createElement('section');
  section.className = 'card chart-card';
  section.dataset.chart = view.id;
  const headingId = `${view.id}-heading`;
  section.setAttribute('aria-labelledby', headingId);
  const heading = document.createElement('h2');
  heading.id = headingId;
  heading.textContent = view.title;
  const summary = document.createElement('p');
  summary.className = 'hint';
  summary.textContent = view.summary;

  const figure = document.createElement('div');
  figure.className = 'chart-and-table';
  const chartColumn = document.createElement('div');
  chartColumn.className = 'chart-column';
  const plotBox = document.createElement('div');
  plotBox.className = 'chart';
  plotBox.setAttribute('role', 'img');
  plotBox.setAttribute('aria-label', `Chart of ${view.title.toLowerCase()}; the table beside it has the same numbers.`);
  chartColumn.append(plotBox, legend(view));

  const tableBox = document.createElement('div');
  tableBox.className = 'table-scroll';
  tableBox.tabIndex = 0;
  tableBox.setAttribute('role', 'region');
  tableBox.setAttribute('aria-label', `Table: ${view.title}`);
  tableBox.append(renderTable(view.table));

  figure.append(chartColumn, tableBox);
  section.append(heading, summary, figure);

  let plot;
  let observer;
  // Drawn once the section is in the document, so the box has a width to fit.
  const draw = () => {
    const width = Math.max(240, Math.floor(plotBox.clientWidth || 600));
    plot = new uPlot(chartOptions(uPlot, view, width), [view.x, ...view.series.map((entry) => entry.values)], plotBox);
    observer = new ResizeObserver(() => {
      const next = Math.max(240, Math.floor(plotBox.clientWidth));
      if (plot && next !== plot.width) plot.setSize({ width: next, height: CHART_HEIGHT });
    });
    observer.observe(plotBox);
  };
  return {
    section,
    draw,
    destroy() {
      observer?.disconnect();
      plot?.destroy();
    },
  };
}
