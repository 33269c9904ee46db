/** The two charts of docs/benchmarks.md as plain SVG text: no charting library. */

export interface Range {
  min: number;
  median: number;
  max: number;
}

/** What both charts are given: a title, the y axis's label, and the series (each named in the legend). */
interface Chart<Value> {
  title: string;
  yLabel: string;
  series: Array<{ name: string; color: string; values: Value[] }>;
}

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function text(x: number, y: number, body: string, attributes = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} ${attributes}>${escape(body)}</text>`;
}

function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = [1, 2, 2.5, 5, 10].find((candidate) => candidate * power >= raw) ?? 10;
  return unit * power;
}

const format = (value: number) => (value >= 1000 ? `${Math.round(value / 100) / 10}k` : String(Math.round(value)));

/**
 * What both charts are drawn on: 720 × 400, a plot area inside margins (the left and bottom ones sized for each
 * chart's tick labels), and the first parts, a white ground and the title.
 */
function canvas(title: string, margin: { left: number; bottom: number }) {
  const width = 720;
  const height = 400;
  const { left, bottom } = margin;
  const right = 20;
  const top = 50;
  const parts = [
    `<rect width="${width}" height="${height}" fill="white"/>`,
    text(width / 2, 28, title, 'font-size="16" text-anchor="middle" font-weight="bold"'),
  ];
  return { width, height, left, right, top, plotW: width - left - right, plotH: height - top - bottom, parts };
}

/** The y axis's label, turned to run up the left edge, centred on `y`. */
function yAxisLabel(label: string, y: number): string {
  return text(18, y, label, `font-size="12" text-anchor="middle" transform="rotate(-90 18 ${y})"`);
}

/** Grouped bars (median) with min–max whiskers: one group per x label, one bar per series. */
export function barChart(options: Chart<Range> & { groups: string[] }): string {
  const { width, height, left, right, top, plotW, plotH, parts } = canvas(options.title, { left: 80, bottom: 80 });
  const top99 = Math.max(...options.series.flatMap((s) => s.values.map((v) => v.max)), 1);
  const step = niceStep(top99, 5);
  const yMax = Math.ceil(top99 / step) * step;
  const y = (value: number) => top + plotH - (value / yMax) * plotH;
  for (let value = 0; value <= yMax + step / 2; value += step) {
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#e5e5e5"/>`,
    );
    parts.push(text(left - 8, y(value) + 4, format(value), 'font-size="12" text-anchor="end"'));
  }
  parts.push(yAxisLabel(options.yLabel, top + plotH / 2));
  const groupW = plotW / options.groups.length;
  const barW = Math.min(60, (groupW * 0.7) / options.series.length);
  options.groups.forEach((group, g) => {
    const x0 = left + g * groupW + (groupW - barW * options.series.length) / 2;
    options.series.forEach((series, s) => {
      const value = series.values[g];
      if (!value || !Number.isFinite(value.median)) return;
      const x = x0 + s * barW;
      parts.push(
        `<rect x="${(x + 2).toFixed(1)}" y="${y(value.median).toFixed(1)}" width="${(barW - 4).toFixed(1)}" ` +
          `height="${(y(0) - y(value.median)).toFixed(1)}" fill="${series.color}"/>`,
      );
      const cx = x + barW / 2;
      parts.push(
        `<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${y(value.min).toFixed(1)}" y2="${y(value.max).toFixed(1)}" stroke="#222" stroke-width="1.5"/>`,
      );
      for (const end of [value.min, value.max]) {
        parts.push(
          `<line x1="${(cx - 6).toFixed(1)}" x2="${(cx + 6).toFixed(1)}" y1="${y(end).toFixed(1)}" y2="${y(end).toFixed(1)}" stroke="#222" stroke-width="1.5"/>`,
        );
      }
      parts.push(text(cx, y(value.max) - 6, format(value.median), 'font-size="11" text-anchor="middle"'));
    });
    parts.push(text(left + g * groupW + groupW / 2, top + plotH + 20, group, 'font-size="13" text-anchor="middle"'));
  });
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(0)}" y2="${y(0)}" stroke="#444"/>`);
  legend(parts, options.series, left, height - 28);
  return svg(width, height, parts);
}

/** Lines on log–log axes: one point per x value, per series. */
export function logLogChart(options: Chart<number> & { xLabel: string; xs: number[] }): string {
  const { width, height, left, right, top, plotW, plotH, parts } = canvas(options.title, { left: 90, bottom: 90 });
  const all = options.series.flatMap((s) => s.values).filter((v) => v > 0);
  const yLo = 10 ** Math.floor(Math.log10(Math.min(...all)));
  const yHi = 10 ** Math.ceil(Math.log10(Math.max(...all)));
  const xLo = Math.min(...options.xs);
  const xHi = Math.max(...options.xs);
  const x = (value: number) =>
    left + ((Math.log10(value) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo))) * plotW;
  const y = (value: number) =>
    top + plotH - ((Math.log10(value) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * plotH;
  // Ticks at powers of ten, in decimal units; the points in the tables' units (KiB, MiB).
  const decimal = (value: number) =>
    value >= 1e6 ? `${value / 1e6} MB` : value >= 1e3 ? `${value / 1e3} kB` : `${value} B`;
  const bytes = (value: number) =>
    value >= 2 ** 20
      ? `${value / 2 ** 20} MiB`.replace(/(\.\d)\d+/, '$1')
      : value >= 1024
        ? `${Math.round(value / 1024)} KiB`
        : `${value} B`;
  for (let value = yLo; value <= yHi * 1.001; value *= 10) {
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(value).toFixed(1)}" y2="${y(value).toFixed(1)}" stroke="#e5e5e5"/>`,
    );
    parts.push(text(left - 8, y(value) + 4, decimal(value), 'font-size="12" text-anchor="end"'));
  }
  for (const value of options.xs) {
    parts.push(
      `<line x1="${x(value).toFixed(1)}" x2="${x(value).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#f0f0f0"/>`,
    );
    parts.push(text(x(value), top + plotH + 18, value.toLocaleString('en-US'), 'font-size="12" text-anchor="middle"'));
  }
  parts.push(text(left + plotW / 2, top + plotH + 40, options.xLabel, 'font-size="12" text-anchor="middle"'));
  parts.push(yAxisLabel(options.yLabel, top + plotH / 2));
  for (const series of options.series) {
    const points = options.xs.map((xv, i) => `${x(xv).toFixed(1)},${y(series.values[i]).toFixed(1)}`);
    parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2.5"/>`);
    options.xs.forEach((xv, i) => {
      parts.push(
        `<circle cx="${x(xv).toFixed(1)}" cy="${y(series.values[i]).toFixed(1)}" r="4" fill="${series.color}"/>`,
      );
      const last = i === options.xs.length - 1;
      parts.push(
        text(
          x(xv) + (last ? -8 : 6),
          y(series.values[i]) - 8,
          bytes(series.values[i]),
          `font-size="11" fill="${series.color}"${last ? ' text-anchor="end"' : ''}`,
        ),
      );
    });
  }
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  legend(parts, options.series, left, height - 22);
  return svg(width, height, parts);
}

function legend(parts: string[], series: Array<{ name: string; color: string }>, x0: number, yBase: number): void {
  let x = x0;
  for (const entry of series) {
    parts.push(`<rect x="${x}" y="${yBase - 10}" width="14" height="14" fill="${entry.color}"/>`);
    parts.push(text(x + 20, yBase + 1, entry.name, 'font-size="12"'));
    x += 30 + entry.name.length * 7;
  }
}

function svg(width: number, height: number, parts: string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n` +
    parts.map((part) => `  ${part}`).join('\n') +
    '\n</svg>\n'
  );
}
