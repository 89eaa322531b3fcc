// NOF live dashboard: league tabs, a sortable table, a trust drill-down and a feed of segment moves,
// kept current over Server-Sent Events without reloading. Plain ES module, no dependencies.

const LEAGUE_NAMES = {
  acute: 'Acute trusts',
  'mental-health-community': 'Mental health and community trusts',
  ambulance: 'Ambulance trusts',
};
const FALLBACK_LEAGUES = Object.keys(LEAGUE_NAMES);
const STREAM_TYPES = 'segment.changed,rank.changed,assessment.changed';
const EVENT_TYPES = ['segment.changed', 'rank.changed', 'assessment.changed',
  'segment.worsened', 'segment.improved', 'overflow', 'gap'];
const EVENT_PREFIXES = ['', 'uk.nhs.nof.'];  // types are matched by suffix; these are only for listeners
const CAUSE_WORDS = { observation: 'data', finance: 'finance (deficit) status',
  intensive_support: 'intensive support decision', trust: 'register entry' };
const SORT_LABELS = { rank: 'rank', trust_name: 'trust', segment: 'segment', average: 'average score',
  unadjusted_rank: 'unadjusted rank', completeness: 'metrics scored',
  distance_to_next_segment: 'distance to next segment' };
const TEXT_KEYS = new Set(['trust_name']);
const RECONCILE_DELAY_MS = 250;
const UPPER_WORDS = new Set(['NHS', 'UK', 'ICB']);
const SMALL_WORDS = new Set(['and', 'of', 'the', 'for', 'in', 'on']);

const state = {
  leagues: [], league: null,
  tables: new Map(),      // league -> {snapshot, etag}
  moves: new Map(),       // league -> Map(trust code -> {from, to}) of rank movements
  minVersion: new Map(),  // league -> highest league_version seen in events
  sort: { key: 'rank', dir: 'ascending' },
  source: null, opened: false, useTypes: true, resumeFrom: null,
  seen: [], feedKeys: new Map(), flash: new Set(),
  reconcileTimer: null, dialogTrust: null,
};

const $ = (id) => document.getElementById(id);

// ---------- small DOM and formatting helpers ----------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
  }
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

const srOnly = (text) => el('span', { class: 'visually-hidden' }, text);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const present = (v) => v !== null && v !== undefined && v !== '';
const leagueName = (slug) => LEAGUE_NAMES[slug] ?? slug;
const segClass = (seg) => (present(seg) ? `seg-${seg}` : 'seg-none');

function withRange(value, range, missing = '—') {
  if (!present(value)) return missing;
  return Array.isArray(range) && range.length === 2 ? `${value} (${range[0]}–${range[1]})` : String(value);
}

function fmtValue(v) {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.every((x) => !isObj(x)) ? v.join(', ') : JSON.stringify(v);
  if (isObj(v)) return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

function fmtTime(iso) {
  const d = iso ? new Date(iso) : new Date();
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleTimeString('en-GB');
}

// The trust register spells names in capitals: show them in title case, keeping "NHS".
function displayName(name) {
  if (!name || name !== name.toUpperCase()) return name;
  return name.toLowerCase().split(' ').map((w, i) => {
    if (UPPER_WORDS.has(w.toUpperCase())) return w.toUpperCase();
    return i > 0 && SMALL_WORDS.has(w) ? w : w.charAt(0).toUpperCase() + w.slice(1);
  }).join(' ');
}

function segmentBadge(seg) {
  const label = present(seg) ? String(seg) : 'none';
  const extra = seg === 5 ? ' intensive support' : present(seg) ? '' : ' (unsegmented)';
  return el('span', { class: `seg-badge ${segClass(seg)}` }, srOnly('Segment '), label, extra);
}

// ---------- league table ----------

function sortValue(entry, key) {
  if (key === 'completeness') {
    return entry.applicable_metrics ? entry.scored_metrics / entry.applicable_metrics : null;
  }
  const v = entry[key];
  if (!present(v)) return null;
  return TEXT_KEYS.has(key) ? String(v) : Number(v);
}

function sortedEntries(entries) {
  const { key, dir } = state.sort;
  const sign = dir === 'ascending' ? 1 : -1;
  return [...entries].sort((a, b) => {
    const va = sortValue(a, key); const vb = sortValue(b, key);
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;  // missing values always last
    } else if (va !== vb) {
      return sign * (typeof va === 'string' ? va.localeCompare(vb) : va - vb);
    }
    return (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.trust_code.localeCompare(b.trust_code);
  });
}

function rankCell(entry, move) {
  const cell = el('td', { class: 'rank-cell' }, withRange(entry.rank, entry.rank_range, 'unranked'));
  if (move && move.from !== move.to) {
    const up = move.to < move.from;
    const places = Math.abs(move.from - move.to);
    cell.append(' ', el('span', { class: `move ${up ? 'move-up' : 'move-down'}`, 'aria-hidden': 'true' }, up ? '▲' : '▼'),
      srOnly(`${up ? 'up' : 'down'} ${places} ${places === 1 ? 'place' : 'places'} from ${move.from}`));
  }
  return cell;
}

function segmentCell(entry) {
  const cell = el('td', { class: 'segment-cell' }, segmentBadge(entry.segment));
  if (entry.capped) {
    cell.append(' ', el('span', { class: 'badge badge-capped' }, 'capped (deficit)'));
    if (present(entry.raw_segment)) cell.append(el('span', { class: 'raw-segment' }, ` raw ${entry.raw_segment}`));
  }
  return cell;
}

function trustCell(entry) {
  const button = el('button', { type: 'button', class: 'trust-link', 'data-trust': entry.trust_code,
    'aria-haspopup': 'dialog' }, displayName(entry.trust_name) ?? entry.trust_code);
  return el('th', { scope: 'row', class: 'trust-cell' }, button,
    el('span', { class: 'trust-code' }, [entry.trust_code, entry.subtype, entry.region].filter(present).join(' · ')));
}

function renderRow(entry, move) {
  const classes = ['row', segClass(entry.segment), state.flash.has(entry.trust_code) ? 'changed' : ''];
  const completeness = present(entry.applicable_metrics)
    ? `${entry.scored_metrics ?? 0}/${entry.applicable_metrics} metrics` : '—';
  return el('tr', { class: classes.join(' ').trim(), 'data-trust': entry.trust_code,
    'data-segment': entry.segment ?? '' },
  rankCell(entry, move), trustCell(entry), segmentCell(entry),
  el('td', { class: 'average-cell num' }, withRange(entry.average, entry.average_range)),
  el('td', { class: 'num' }, entry.unadjusted_rank ?? '—'),
  el('td', { class: 'completeness-cell' }, completeness),
  el('td', { class: 'num' }, entry.distance_to_next_segment ?? '—'));
}

function renderTable() {
  const league = state.league;
  const snapshot = state.tables.get(league)?.snapshot;
  const focused = document.activeElement?.closest?.('#league-rows [data-trust]')?.dataset.trust;
  const { key, dir } = state.sort;
  $('league-caption').textContent = `${leagueName(league)}: league table, sorted by ${SORT_LABELS[key]} (${dir})`;
  for (const th of document.querySelectorAll('#league-table thead th')) {
    th.setAttribute('aria-sort', th.dataset.key === key ? dir : 'none');
  }
  if (!snapshot) return;
  const moves = state.moves.get(league) ?? new Map();
  $('league-rows').replaceChildren(...sortedEntries(snapshot.entries ?? [])
    .map((e) => renderRow(e, moves.get(e.trust_code))));
  $('league-meta').textContent = [`${(snapshot.entries ?? []).length} trusts`,
    present(snapshot.version) ? `version ${snapshot.version}` : null,
    snapshot.methodology_version ? `methodology ${snapshot.methodology_version}` : null,
    snapshot.updated_at ? `updated ${fmtTime(snapshot.updated_at)}` : null].filter(Boolean).join(' · ');
  if (focused) document.querySelector(`#league-rows button[data-trust="${CSS.escape(focused)}"]`)?.focus();
}

function onSortClick(event) {
  const th = event.target.closest('th[data-key]');
  if (!th || !event.target.closest('button')) return;
  const key = th.dataset.key;
  const dir = state.sort.key === key && state.sort.dir === 'ascending' ? 'descending' : 'ascending';
  state.sort = { key, dir };
  renderTable();
}

// ---------- snapshots: fetch, reconcile, rank movements ----------

function recordMoves(league, before, after) {
  const moves = state.moves.get(league) ?? new Map();
  const old = new Map(before.map((e) => [e.trust_code, e.rank]));
  for (const e of after) noteMove(moves, e.trust_code, old.get(e.trust_code), e.rank);
  state.moves.set(league, moves);
}

function noteMove(moves, code, from, to) {
  if (present(from) && present(to) && from !== to) moves.set(code, { from, to });
}

async function fetchLeague(league) {
  const cached = state.tables.get(league);
  const headers = cached?.etag ? { 'If-None-Match': cached.etag } : {};
  const res = await fetch(`/v1/leagues/${encodeURIComponent(league)}`, { headers, cache: 'no-store' });
  if (res.status === 304 && cached) return cached;
  if (res.status === 404) throw new Error('no table yet: it appears when the first data for this league is scored');
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return { snapshot: await res.json(), etag: res.headers.get('ETag') };
}

async function reconcile(league, attempt = 0) {
  try {
    const fetched = await fetchLeague(league);
    const current = state.tables.get(league);
    // An event can arrive before the snapshot it belongs to is readable: keep the event's patch, try again.
    const behind = (fetched.snapshot.version ?? Infinity) < (state.minVersion.get(league) ?? -Infinity);
    if (behind && attempt < 8) {
      setTimeout(() => reconcile(league, attempt + 1), Math.min(2000, 250 * 2 ** attempt));
      if (current) return;
    }
    if (fetched !== current) {
      if (current?.snapshot) recordMoves(league, current.snapshot.entries ?? [], fetched.snapshot.entries ?? []);
      state.tables.set(league, fetched);
    }
    if (league === state.league) renderTable();
  } catch (err) {
    if (!state.tables.has(league)) $('league-rows').replaceChildren(el('tr', {}, el('td', { colspan: 7 }, `Could not load the league: ${err.message}`)));
  }
}

function scheduleReconcile(league) {
  clearTimeout(state.reconcileTimer);
  state.reconcileTimer = setTimeout(() => reconcile(league), RECONCILE_DELAY_MS);
}

function patchEntry(league, code, fields) {
  const snapshot = state.tables.get(league)?.snapshot;
  const entries = snapshot?.entries ?? [];
  const i = entries.findIndex((e) => e.trust_code === code);
  if (i < 0) return;
  entries[i] = { ...entries[i], ...fields };
  flashRow(code);
}

function flashRow(code) {
  state.flash.add(code);
  setTimeout(() => { state.flash.delete(code); document.querySelector(`#league-rows tr[data-trust="${CSS.escape(code)}"]`)?.classList.remove('changed'); }, 4000);
}

// ---------- live events ----------

function setConnection(kind, text) {
  const box = document.querySelector('.connection');
  box.dataset.state = kind;
  $('connection-text').textContent = text;
}

function openStream() {
  state.source?.close();
  const params = new URLSearchParams({ league: state.league });
  if (state.useTypes) {
    params.set('type', STREAM_TYPES);   // the publisher's filter (repeatable or comma-separated)
    params.set('types', STREAM_TYPES);  // the same filter as the API contract first spelt it
  }
  if (state.resumeFrom) params.set('last_event_id', state.resumeFrom);
  const source = new EventSource(`/v1/stream?${params}`);
  state.source = source;
  state.opened = false;
  setConnection('connecting', 'Connecting to live updates…');
  source.onopen = () => {
    if (source !== state.source) return;
    state.opened = true;
    setConnection('live', `Live: updates for ${leagueName(state.league)} appear as they happen`);
    scheduleReconcile(state.league);  // catch up on anything missed while connecting (a 304 when nothing was)
  };
  source.onerror = () => onStreamError(source);
  source.onmessage = onStreamMessage;
  for (const prefix of EVENT_PREFIXES) {
    for (const type of EVENT_TYPES) source.addEventListener(prefix + type, onStreamMessage);
  }
}

function onStreamError(source) {
  if (source !== state.source) return;
  if (source.readyState === EventSource.CONNECTING) {
    setConnection('reconnecting', 'Connection lost: reconnecting…');
    return;
  }
  state.resumeFrom = null;  // a refused resume position must not be retried: start from now and re-fetch
  if (!state.opened && state.useTypes) {
    state.useTypes = false;  // the server may not filter by type: take everything, filter here
    openStream();
  } else {
    setConnection('offline', 'Offline: retrying in 5 seconds');
    setTimeout(() => { if (source === state.source) openStream(); }, 5000);
  }
}

function alreadySeen(id) {
  if (!present(id)) return false;
  if (state.seen.includes(id)) return true;
  state.seen.push(id);
  if (state.seen.length > 500) state.seen.shift();
  return false;
}

function onStreamMessage(event) {
  if (event.lastEventId) state.resumeFrom = event.lastEventId;
  if (event.type.endsWith('overflow')) return restartStream();
  if (event.type === 'gap') return scheduleReconcile(state.league);  // some history was trimmed: re-fetch
  let message;
  try { message = JSON.parse(event.data); } catch { return; }
  if (!isObj(message)) return;
  const type = String(message.type ?? event.type);
  if (type.endsWith('overflow')) return restartStream();
  if (alreadySeen(message.id ?? event.lastEventId)) return;
  const data = isObj(message.data) ? message.data : message;
  const league = data.league ?? state.league;
  const code = data.trust_code ?? message.subject;
  handleChange(league, type, code, data);
}

function restartStream() {
  openStream();  // the server dropped us for falling behind: reopen (resumes) and reconcile
  scheduleReconcile(state.league);
}

function handleChange(league, type, code, data) {
  if (present(data.league_version)) {
    state.minVersion.set(league, Math.max(state.minVersion.get(league) ?? -Infinity, Number(data.league_version)));
  }
  if (type.endsWith('segment.changed')) {
    const fields = {};
    for (const k of ['segment', 'raw_segment', 'capped', 'average', 'average_range']) {
      if (isObj(data.new) && k in data.new) fields[k] = data.new[k];
    }
    patchEntry(league, code, fields);
    addFeedEntry(league, code, data);
  } else if (type.endsWith('rank.changed')) {
    const fields = isObj(data.new) ? { rank: data.new.rank, unadjusted_rank: data.new.unadjusted_rank } : {};
    const old = state.tables.get(league)?.snapshot?.entries?.find((e) => e.trust_code === code);
    const moves = state.moves.get(league) ?? new Map();
    noteMove(moves, code, data.old?.rank ?? old?.rank, fields.rank);
    state.moves.set(league, moves);
    patchEntry(league, code, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
  } else if (type.endsWith('segment.worsened') || type.endsWith('segment.improved')) {
    if (present(segOf(data.new))) patchEntry(league, code, { segment: segOf(data.new) });
    addFeedEntry(league, code, data);
  }
  if (league !== state.league) return;
  renderTable();
  scheduleReconcile(league);
  if (state.dialogTrust === code) loadTrust(code);
}

// ---------- feed of segment moves ----------

const segOf = (x) => (isObj(x) ? x.segment : x);

function causeText(code, cause) {
  if (!isObj(cause)) return 'cause not given';
  const what = CAUSE_WORDS[cause.kind] ?? (cause.kind ? String(cause.kind).replaceAll('_', ' ') : 'data');
  const metric = cause.metric_id ? ` (${cause.metric_id})` : '';
  const own = cause.own_data ?? (!cause.trust_code || cause.trust_code === code);
  if (own) return `caused by ${code}'s own ${what}${metric}`;
  return `caused by another trust's ${what}: ${cause.trust_code}${metric}`;
}

function addFeedEntry(league, code, data) {
  const from = segOf(data.old); const to = segOf(data.new);
  const key = `${league}|${code}|${from}|${to}`;
  const now = Date.now();
  if (now - (state.feedKeys.get(key) ?? -Infinity) < 30000) return;  // an alert repeating its segment.changed
  state.feedKeys.set(key, now);
  const entry = state.tables.get(league)?.snapshot?.entries?.find((e) => e.trust_code === code);
  const worse = present(from) && present(to) ? (to > from ? 'worsened' : 'improved') : 'changed';
  const item = el('li', { class: `feed-item ${segClass(to)}`, 'data-trust': code },
    el('p', { class: 'feed-head' }, el('time', { datetime: new Date(now).toISOString() }, fmtTime()),
      ' ', el('span', { class: 'feed-league' }, leagueName(league))),
    el('p', {}, el('strong', {}, `${displayName(entry?.trust_name) ?? code} (${code})`), `: segment ${worse} `,
      segmentBadge(from), ' → ', segmentBadge(to)),
    el('p', { class: 'feed-cause' }, causeText(code, data.cause)),
    typeof data.exceeds_uncertainty === 'boolean'
      ? el('p', { class: 'feed-note' }, data.exceeds_uncertainty ? 'The move is beyond the likely range.' : 'The move is within the likely range.')
      : null);
  $('feed-list').prepend(item);
  $('feed-empty').hidden = true;
  while ($('feed-list').children.length > 100) $('feed-list').lastElementChild.remove();
}

// ---------- trust drill-down ----------

const METRIC_KEYS = ['metric_id', 'id', 'name', 'metric_name', 'domain', 'unit', 'direction', 'provisional', 'role', 'kind', 'periods_received',
  'value', 'period', 'peers', 'position', 'score', 'status', 'rule'];
const SHOWN_KEYS = new Set(['trust_code', 'trust_name', 'league', 'version', 'methodology_version', 'result',
  'metrics', 'breakdown', 'metric_breakdown', 'history', 'segment_rule', 'cap', 'segment5', 'rank_reason',
  'range_method', 'average_exact', 'rank', 'unadjusted_rank', 'segment', 'raw_segment', 'capped', 'average',
  'average_range', 'rank_range', 'scored_metrics', 'applicable_metrics', 'distance_to_next_segment',
  'in_deficit', 'intensive_support', 'metric_scores', 'domain_scores', 'warnings']);

function metricList(data, r) {
  const raw = data.metrics ?? data.metric_breakdown ?? data.breakdown ?? r.metric_scores ?? [];
  if (Array.isArray(raw)) return raw.map((m) => (isObj(m) ? m : { value: m }));
  if (!isObj(raw)) return [];
  return Object.entries(raw).map(([id, m]) => (isObj(m) ? { metric_id: id, ...m } : { metric_id: id, score: m }));
}

function metricRow(m) {
  const id = m.metric_id ?? m.id ?? '';
  const extras = Object.entries(m).filter(([k, v]) => !METRIC_KEYS.includes(k) && present(v) && typeof v !== 'boolean');
  return el('tr', { 'data-metric': id },
    el('th', { scope: 'row' }, el('span', { class: 'metric-id' }, id), ' ', m.name ?? m.metric_name ?? '',
      m.provisional ? el('span', { class: 'badge' }, 'provisional') : null,
      m.direction ? el('span', { class: 'metric-dir' }, ` (${m.direction} is better)`) : null),
    el('td', {}, m.domain ?? '—'),
    el('td', { class: 'num' }, present(m.value) ? `${m.value}${m.unit ? ` ${m.unit}` : ''}` : '—',
      m.period ? el('span', { class: 'metric-period' }, ` ${m.period}`) : null),
    el('td', { class: 'num' }, m.peers ?? '—'),
    el('td', { class: 'num' }, m.position ?? '—'),
    el('td', { class: 'num score' }, m.score ?? '—'),
    el('td', {}, m.status ?? '', m.rule ? el('span', { class: 'metric-rule' }, m.rule) : null,
      extras.map(([k, v]) => el('span', { class: 'metric-extra' }, `${k.replaceAll('_', ' ')}: ${fmtValue(v)}`))));
}

function metricsTable(metrics) {
  if (!metrics.length) return el('p', {}, 'No metric breakdown available.');
  const head = ['Metric', 'Domain', 'Value', 'Peers', 'Position', 'Score', 'How it was scored'];
  return el('div', { class: 'table-scroll' }, el('table', { class: 'metrics-table' },
    el('caption', {}, 'Metric breakdown (scores: 1.00 best to 4.00 worst)'),
    el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, metrics.map(metricRow))));
}

function definitionList(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined)
    .map(([k, v]) => [el('dt', {}, k), el('dd', {}, v instanceof Node ? v : fmtValue(v))]));
}

function summary(data, r) {
  const seg = el('span', {}, segmentBadge(r.segment), r.capped ? [' ', el('span', { class: 'badge badge-capped' }, 'capped (deficit)')] : null);
  return definitionList([
    ['Segment', seg], ['Raw segment (before adjustments)', r.raw_segment],
    ['Average score (likely range)', withRange(r.average, r.average_range)],
    ['Rank (likely range)', withRange(r.rank, r.rank_range, 'unranked')],
    ['Unadjusted rank (by average alone)', r.unadjusted_rank],
    ['Metrics scored', present(r.applicable_metrics) ? `${r.scored_metrics}/${r.applicable_metrics}` : undefined],
    ['Distance to the next better segment', r.distance_to_next_segment],
    ['In financial deficit', r.in_deficit === null ? 'unknown' : r.in_deficit],
    ['Intensive support', r.intensive_support],
  ]);
}

function reasons(data) {
  return definitionList([['Segment', data.segment_rule], ['Financial cap', data.cap],
    ['Segment 5', data.segment5], ['Rank', data.rank_reason], ['Likely ranges', data.range_method]]);
}

function historyList(history) {
  if (!Array.isArray(history) || !history.length) return el('p', {}, 'No recent segment or rank changes.');
  const describe = (h) => {
    const field = String(h.type ?? '').includes('rank') ? 'rank' : 'segment';
    const pick = (x) => (isObj(x) ? x[field] ?? fmtValue(x) : fmtValue(x));
    return `${String(h.type ?? 'change').replaceAll('_', ' ')}: ${pick(h.old)} → ${pick(h.new)}`;
  };
  return el('ol', { class: 'history' }, history.map((h) => el('li', {},
    isObj(h) ? [h.at ? el('time', { datetime: h.at }, `${fmtTime(h.at)} `) : null, describe(h),
      present(h.league_version) ? ` (version ${h.league_version})` : ''] : fmtValue(h))));
}

function renderExplanation(data) {
  const r = { ...data, ...(isObj(data.result) ? data.result : {}) };
  const other = Object.entries(data).filter(([k]) => !SHOWN_KEYS.has(k));
  const extraResult = isObj(data.result) ? Object.entries(data.result).filter(([k]) => !SHOWN_KEYS.has(k) && !['trust_code', 'trust_name', 'league'].includes(k)) : [];
  const domains = isObj(r.domain_scores) && Object.keys(r.domain_scores).length
    ? [el('h3', {}, 'Domain scores (context only)'), definitionList(Object.entries(r.domain_scores))] : [];
  const warnings = Array.isArray(r.warnings) && r.warnings.length
    ? [el('h3', {}, 'Warnings'), el('ul', {}, r.warnings.map((w) => el('li', {}, fmtValue(w))))] : [];
  const rest = [...other, ...extraResult];
  return [
    el('p', { class: 'dialog-sub' }, [leagueName(data.league ?? r.league), data.methodology_version ? `methodology ${data.methodology_version}` : null,
      present(data.version) ? `version ${data.version}` : null].filter(Boolean).join(' · ')),
    summary(data, r), el('h3', {}, 'Metrics'), metricsTable(metricList(data, r)),
    el('h3', {}, 'Why this result'), reasons(data), ...domains, ...warnings,
    el('h3', {}, 'Recent changes'), historyList(data.history),
    rest.length ? el('details', {}, el('summary', {}, 'Other details'), definitionList(rest)) : null,
  ].filter(Boolean);
}

async function loadTrust(code) {
  try {
    const res = await fetch(`/v1/trusts/${encodeURIComponent(code)}`, { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const data = await res.json();
    if (state.dialogTrust !== code) return;
    $('trust-dialog-title').textContent = `${displayName(data.trust_name ?? data.result?.trust_name) ?? code} (${code})`;
    $('trust-dialog-body').replaceChildren(...renderExplanation(data));
  } catch (err) {
    if (state.dialogTrust === code) $('trust-dialog-body').replaceChildren(el('p', { class: 'error' }, `Could not load ${code}: ${err.message}`));
  }
}

function openTrust(code, name) {
  const dialog = $('trust-dialog');
  state.dialogTrust = code;
  $('trust-dialog-title').textContent = `${name} (${code})`;
  $('trust-dialog-body').replaceChildren(el('p', {}, 'Loading…'));
  if (!dialog.open) dialog.showModal();
  $('trust-dialog-close').focus();
  loadTrust(code);
}

function onDialogClose() {
  const code = state.dialogTrust;
  state.dialogTrust = null;
  // The table may have been re-rendered while the dialog was open: return focus to the current button.
  if (code) document.querySelector(`#league-rows button[data-trust="${CSS.escape(code)}"]`)?.focus();
}

// ---------- tabs (WAI-ARIA tabs pattern, automatic activation) ----------

function renderTabs() {
  $('league-tabs').replaceChildren(...state.leagues.map((slug) => el('button', {
    type: 'button', role: 'tab', id: `tab-${slug}`, 'data-league': slug, 'aria-controls': 'league-panel',
    'aria-selected': String(slug === state.league), tabindex: slug === state.league ? '0' : '-1',
  }, leagueName(slug))));
  $('league-panel').setAttribute('aria-labelledby', `tab-${state.league}`);
}

function selectLeague(slug, { focus = false } = {}) {
  const changed = slug !== state.league;
  state.league = slug;
  renderTabs();
  if (focus) $(`tab-${slug}`).focus();
  if (!changed) return;
  history.replaceState(null, '', `#${slug}`);
  state.resumeFrom = null;
  if (!state.tables.has(slug)) $('league-rows').replaceChildren(el('tr', {}, el('td', { colspan: 7 }, 'Loading…')));
  renderTable();
  reconcile(slug);
  openStream();
}

function onTabKey(event) {
  const i = state.leagues.indexOf(state.league);
  const n = state.leagues.length;
  const next = { ArrowRight: (i + 1) % n, ArrowLeft: (i - 1 + n) % n, Home: 0, End: n - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  selectLeague(state.leagues[next], { focus: true });
}

// ---------- start ----------

async function loadLeagues() {
  try {
    const res = await fetch('/v1/leagues', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json();  // a list, or {"leagues": [...]}
    const found = (Array.isArray(body) ? body : body.leagues ?? []).map((x) => (isObj(x) ? x.league : x));
    const known = FALLBACK_LEAGUES.filter((slug) => found.includes(slug));
    const list = [...known, ...found.filter((slug) => present(slug) && !known.includes(slug))];
    return list.length ? list : FALLBACK_LEAGUES;
  } catch {
    return FALLBACK_LEAGUES;
  }
}

async function start() {
  $('league-table').querySelector('thead').addEventListener('click', onSortClick);
  $('league-tabs').addEventListener('click', (e) => {
    const tab = e.target.closest('[role="tab"]');
    if (tab) selectLeague(tab.dataset.league);
  });
  $('league-tabs').addEventListener('keydown', onTabKey);
  $('league-rows').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-trust]');
    if (button) openTrust(button.dataset.trust, button.textContent);
  });
  const dialog = $('trust-dialog');
  $('trust-dialog-close').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', onDialogClose);
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });  // backdrop
  state.leagues = await loadLeagues();
  const wanted = decodeURIComponent(location.hash.slice(1));
  selectLeague(state.leagues.includes(wanted) ? wanted : state.leagues[0]);
}

start();
