// The dashboard's charts, drawn with Observable Plot. Each returns an SVG element; the pages add the text
// alternative (a summary sentence and the data as a table) and the download buttons. Colours follow the NHS
// palette, and every colour is doubled by a shape, a position or a line, so nothing relies on hue alone.
import * as Plot from '@observablehq/plot';

export const SEGMENT_COLOURS = { 1: '#007f3b', 2: '#8fd3c1', 3: '#ffb81c', 4: '#c8102e', 5: '#5c2d91', none: '#aeb7bd' };
const SEGMENT_DOMAIN = ['1', '2', '3', '4', '5', 'none'];
const MARK_DOMAIN = ['not capped', 'capped (deficit)', 'intensive support'];
const MARK_SYMBOLS = ['circle', 'triangle', 'square'];
const TEXT = '#212b32';
const SECONDARY = '#4c6272';
const num = (v) => (v === null || v === undefined || v === '' ? null : Number(v));
const segKey = (s) => (s === null || s === undefined ? 'none' : String(s));

function markOf(entry) {
  if (entry.intensive_support || entry.segment === 5) return 'intensive support';
  return entry.capped ? 'capped (deficit)' : 'not capped';
}

function finish(svg, label) {
  // The chart is one image with one label (the page gives its data as text): Plot's labels on the groups
  // inside would be ARIA on elements without a role.
  for (const inner of svg.querySelectorAll('[aria-label], [aria-description]')) {
    inner.removeAttribute('aria-label');
    inner.removeAttribute('aria-description');
  }
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('focusable', 'false');
  return svg;
}

/** Every trust's average with its likely range, best first, the segment cut-offs as dashed lines. */
export function caterpillar(entries, { cutoffs = [2.1, 2.35, 2.7], width = 640, label = 'Caterpillar chart' } = {}) {
  const data = entries.filter((e) => num(e.average) !== null)
    .map((e) => ({ ...e, avg: num(e.average), lo: num(e.average_range?.[0]) ?? num(e.average),
      hi: num(e.average_range?.[1]) ?? num(e.average), mark: markOf(e), seg: segKey(e.segment) }))
    .sort((a, b) => a.avg - b.avg || String(a.trust_code).localeCompare(String(b.trust_code)))
    .map((e, i) => ({ ...e, position: i + 1 }));
  const cuts = cutoffs.map(Number);
  const svg = Plot.plot({
    width, height: Math.max(260, Math.min(420, width * 0.55)), marginLeft: 44, marginRight: 14,
    style: { fontSize: '14px', color: TEXT, background: 'transparent' },
    x: { label: 'Trusts, best average first →', domain: [0.5, data.length + 0.5], ticks: Math.min(10, data.length) },
    y: { label: '↑ Average score (1 best, 4 worst)', reverse: true, domain: [4, 1], grid: false },
    color: { domain: SEGMENT_DOMAIN, range: SEGMENT_DOMAIN.map((k) => SEGMENT_COLOURS[k]) },
    symbol: { domain: MARK_DOMAIN, range: MARK_SYMBOLS, legend: true },
    marks: [
      Plot.ruleY(cuts, { stroke: SECONDARY, strokeDasharray: '6,4', ariaLabel: 'segment cut-off' }),
      Plot.text(cuts, { x: data.length + 0.5, y: (d) => d, text: (d) => `cut-off ${d.toFixed(2)}`,
        textAnchor: 'end', dy: -6, fill: SECONDARY, fontSize: 12 }),
      Plot.ruleX(data, { x: 'position', y1: 'lo', y2: 'hi', stroke: SECONDARY, strokeWidth: 1.5 }),
      Plot.dot(data, { x: 'position', y: 'avg', fill: 'seg', symbol: 'mark', stroke: TEXT, strokeWidth: 1, r: 4.5,
        title: (d) => `${d.trust_code}: average ${d.average} (likely ${d.lo.toFixed(2)}–${d.hi.toFixed(2)}), segment ${d.seg}, ${d.mark}` }),
    ],
  });
  return figureOf(svg, label);
}

/** One row per metric: the peers' spread (lowest–quartiles–highest, median tick) with better on the right. */
export function spine(rows, { width = 640, label = 'Spine chart' } = {}) {
  const data = rows.map((r) => {
    const lower = r.direction === 'lower';
    const span = (r.max - r.min) || 1;
    const at = (v) => (lower ? (r.max - v) / span : (v - r.min) / span);
    return { ...r, a: at(r.min), b: at(r.q1), c: at(r.q3), d: at(r.max), m: at(r.median), v: at(r.value),
      scoreKey: r.score === null || r.score === undefined ? 'not scored' : Number(r.score) <= 2 ? 'better half' : 'worse half' };
  });
  const band = data.flatMap((r) => [
    { id: r.metric_id, x1: Math.min(r.a, r.b), x2: Math.max(r.a, r.b), part: 'outer' },
    { id: r.metric_id, x1: Math.min(r.b, r.c), x2: Math.max(r.b, r.c), part: 'middle half' },
    { id: r.metric_id, x1: Math.min(r.c, r.d), x2: Math.max(r.c, r.d), part: 'outer' },
  ]);
  const svg = Plot.plot({
    width, height: 40 + data.length * 38, marginLeft: Math.min(110, width * 0.28), marginRight: 14,
    style: { fontSize: '14px', color: TEXT, background: 'transparent' },
    x: { domain: [0, 1], ticks: [0, 0.5, 1], tickFormat: (t) => (t === 0 ? 'worst' : t === 1 ? 'best' : 'middle'), label: null },
    y: { domain: data.map((r) => r.metric_id), label: null },
    color: { domain: ['outer', 'middle half'], range: ['#d8dde0', '#aeb7bd'] },
    symbol: { domain: ['better half', 'worse half', 'not scored'], range: ['circle', 'diamond', 'square'], legend: true },
    marks: [
      Plot.barX(band, { y: 'id', x1: 'x1', x2: 'x2', fill: 'part', insetTop: 8, insetBottom: 8 }),
      Plot.tickX(data, { y: 'metric_id', x: 'm', stroke: TEXT, strokeWidth: 2, insetTop: 4, insetBottom: 4 }),
      Plot.dot(data, { y: 'metric_id', x: 'v', symbol: 'scoreKey', r: 6, fill: (d) => (d.scoreKey === 'worse half' ? '#d5281b' : '#005eb8'),
        stroke: '#ffffff', strokeWidth: 1.5,
        title: (d) => `${d.metric_id}: ${d.value} (peers ${d.min}–${d.max}, median ${d.median})` }),
    ],
  });
  return figureOf(svg, label);
}

/** The trust's average over time with its likely range as a band and its segment at each point. */
export function history(points, { width = 640, label = 'History chart' } = {}) {
  const data = points.map((p) => ({ ...p, t: new Date(p.at), avg: num(p.average), lo: num(p.lo) ?? num(p.average),
    hi: num(p.hi) ?? num(p.average), seg: segKey(p.segment) })).filter((p) => p.avg !== null && !Number.isNaN(p.t.getTime()));
  const svg = Plot.plot({
    width, height: 260, marginLeft: 44, marginRight: 20,
    style: { fontSize: '14px', color: TEXT, background: 'transparent' },
    x: { type: 'time', label: 'When', ticks: Math.max(2, Math.floor(width / 140)), domain: timeDomain(data) },
    y: { label: '↑ Average score (1 best, 4 worst)', reverse: true, domain: [4, 1] },
    color: { domain: SEGMENT_DOMAIN, range: SEGMENT_DOMAIN.map((k) => SEGMENT_COLOURS[k]) },
    marks: [
      Plot.areaY(data, { x: 't', y1: 'lo', y2: 'hi', fill: '#aeb7bd', fillOpacity: 0.5, curve: 'step-after' }),
      Plot.line(data, { x: 't', y: 'avg', stroke: TEXT, curve: 'step-after' }),
      Plot.dot(data, { x: 't', y: 'avg', fill: 'seg', stroke: TEXT, r: 5, title: (d) => `${d.at}: average ${d.average}, segment ${d.seg}` }),
      Plot.text(data, { x: 't', y: 'avg', text: (d) => d.seg, dy: -12, fill: TEXT, fontWeight: 'bold' }),
    ],
  });
  return figureOf(svg, label);
}

// One point still gets a readable axis: an hour either side of it.
function timeDomain(data) {
  const times = data.map((d) => d.t.getTime());
  const lo = Math.min(...times); const hi = Math.max(...times);
  const pad = hi - lo < 60000 ? 3600000 : 0;
  return [new Date(lo - pad), new Date(hi + pad)];
}

/** Each trust's span of ranks across the methods: a line from lowest to highest, one shape per method. */
export function rankSpans(entries, methods, { width = 640, label = 'Rank spans' } = {}) {
  const rows = entries.filter((e) => e.lowest_rank !== null && e.lowest_rank !== undefined);
  const dots = rows.flatMap((e) => methods.map((m) => ({ code: e.trust_code, method: m.label, rank: e.ranks?.[m.key] }))
    .filter((d) => d.rank !== null && d.rank !== undefined));
  const symbols = ['circle', 'triangle', 'square', 'diamond', 'star', 'cross', 'wye'];
  const svg = Plot.plot({
    width, height: 60 + rows.length * 22, marginLeft: 56, marginRight: 14,
    style: { fontSize: '14px', color: TEXT, background: 'transparent' },
    x: { label: 'Rank (1 best) →', grid: true, domain: [0.5, Math.max(1, ...rows.map((e) => e.highest_rank)) + 0.5] },
    y: { domain: rows.map((e) => e.trust_code), label: null },
    symbol: { domain: methods.map((m) => m.label), range: symbols.slice(0, methods.length), legend: true },
    color: { domain: methods.map((m) => m.label), range: ['#212b32', '#005eb8', '#007f3b', '#d5281b', '#330072'] },
    marks: [
      Plot.ruleY(rows, { y: 'trust_code', x1: 'lowest_rank', x2: 'highest_rank', stroke: '#aeb7bd', strokeWidth: 6 }),
      Plot.dot(dots, { y: 'code', x: 'rank', symbol: 'method', stroke: 'method', strokeWidth: 1.8, r: 5,
        title: (d) => `${d.code}: rank ${d.rank} (${d.method})` }),
    ],
  });
  return figureOf(svg, label);
}

// Plot returns a <figure> when it draws a legend: the label goes on the SVG that holds the marks.
function figureOf(node, label) {
  const svg = node.tagName.toLowerCase() === 'svg' ? node : node.querySelector(':scope > svg') ?? node.querySelector('svg');
  finish(svg, label);
  for (const legendSvg of node.querySelectorAll?.('svg') ?? []) if (legendSvg !== svg) legendSvg.setAttribute('aria-hidden', 'true');
  return node;
}
