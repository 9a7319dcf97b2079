// The ses-stats dashboard (issue 10): `ses-stats serve` hands out the built page at `/` and the
// read API beside it. Every text that comes from the store goes in through textContent.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import type uPlot from 'uplot';
import {
  type AccountSummary,
  allRecords,
  type Coverage,
  type Dataset,
  datasetPath,
  type Granularity,
  getJson,
  type Span,
  type StatisticsRow,
  type StatisticsSummary,
  type UsageRow,
} from './api.ts';
import { type ChartSpec, COLOURS, chartWidth, drawChart, type Level } from './charts.ts';
import {
  browserZone,
  formatCount,
  formatPercent,
  formatTime,
  isTimeZone,
  localInputValue,
} from './format.ts';
import { gapsWithin, quotaSeries, statisticsSeries, utilisation } from './series.ts';

const DAY_MS = 86_400_000;
/** Up to this many days a range is shown per hour (about 1,500 buckets), beyond it per day. */
const HOURLY_UP_TO_DAYS = 62;

const RANGES: Readonly<Record<string, { since: string; days: number }>> = {
  '24h': { since: '24h', days: 1 },
  '7d': { since: '7d', days: 7 },
  '14d': { since: '14d', days: 14 },
  '30d': { since: '30d', days: 30 },
  '90d': { since: '90d', days: 90 },
  '1y': { since: '365d', days: 365 },
};

/** AWS's account-level levels, in percent (a review first, then a possible pause). */
const BOUNCE_LEVELS = { review: 5, pause: 10 };
const COMPLAINT_LEVELS = { review: 0.1, pause: 0.5 };

const UNIT_WORD: Readonly<Record<Granularity, string>> = {
  '15m': 'per 15 minutes',
  '1h': 'per hour',
  '1d': 'per day',
};

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const ui = {
  status: element<HTMLParagraphElement>('status'),
  error: element<HTMLParagraphElement>('error'),
  main: element<HTMLElement>('main'),
  form: element<HTMLFormElement>('controls'),
  dataset: element<HTMLSelectElement>('dataset'),
  range: element<HTMLSelectElement>('range'),
  custom: element<HTMLSpanElement>('custom'),
  from: element<HTMLInputElement>('from'),
  to: element<HTMLInputElement>('to'),
  zone: element<HTMLSelectElement>('zone'),
  zoneOtherLabel: element<HTMLLabelElement>('zone-other-label'),
  zoneOther: element<HTMLInputElement>('zone-other'),
  buckets: element<HTMLSelectElement>('buckets'),
  apply: element<HTMLButtonElement>('apply'),
  coverage: element<HTMLParagraphElement>('coverage'),
  totals: element<HTMLParagraphElement>('totals'),
  countsTitle: element<HTMLHeadingElement>('counts-title'),
  quotaNote: element<HTMLParagraphElement>('quota-note'),
  accountState: element<HTMLParagraphElement>('account-state'),
  accountReputation: element<HTMLParagraphElement>('account-reputation'),
  tableSummary: element<HTMLElement>('table-summary'),
  tableCaption: element<HTMLTableCaptionElement>('table-caption'),
  rows: element<HTMLTableSectionElement>('rows'),
  charts: {
    counts: element<HTMLDivElement>('chart-counts'),
    bounce: element<HTMLDivElement>('chart-bounce'),
    complaint: element<HTMLDivElement>('chart-complaint'),
    quota: element<HTMLDivElement>('chart-quota'),
  },
};

interface Selection {
  readonly dataset: string;
  readonly range: string;
  readonly from: string;
  readonly to: string;
  readonly zone: string;
  readonly buckets: string;
}

let datasets: Dataset[] = [];
let drawn: { chart: uPlot; target: HTMLElement }[] = [];
let running: AbortController | undefined;
let loads = 0;

function setState(state: 'loading' | 'ready' | 'error' | 'empty'): void {
  document.body.dataset.state = state;
  ui.main.setAttribute('aria-busy', String(state === 'loading'));
}

function showError(message: string): void {
  ui.error.textContent = message;
  ui.error.hidden = false;
  setState('error');
}

function option(value: string, text: string): HTMLOptionElement {
  const item = document.createElement('option');
  item.value = value;
  item.textContent = text;
  return item;
}

function selectedZone(): string {
  return ui.zone.value === 'other' ? ui.zoneOther.value.trim() : ui.zone.value;
}

function selection(): Selection {
  return {
    dataset: ui.dataset.value,
    range: ui.range.value,
    from: ui.from.value,
    to: ui.to.value,
    zone: selectedZone(),
    buckets: ui.buckets.value,
  };
}

/** The page's state lives in the address (#dataset=…&range=…), so a reload or a link keeps it. */
function writeAddress(sel: Selection): void {
  const state = new URLSearchParams({
    dataset: sel.dataset,
    range: sel.range,
    tz: sel.zone,
    buckets: sel.buckets,
  });
  if (sel.range === 'custom') {
    state.set('from', sel.from);
    state.set('to', sel.to);
  }
  history.replaceState(null, '', `#${state}`);
}

function readAddress(): void {
  const state = new URLSearchParams(location.hash.slice(1));
  const pick = (select: HTMLSelectElement, value: string | null) => {
    if (value !== null && [...select.options].some((o) => o.value === value)) select.value = value;
  };
  pick(ui.range, state.get('range'));
  pick(ui.buckets, state.get('buckets'));
  ui.from.value = state.get('from') ?? '';
  ui.to.value = state.get('to') ?? '';
  const zone = state.get('tz');
  if (zone !== null && zone !== 'other') {
    pick(ui.zone, zone);
    if (ui.zone.value !== zone) {
      ui.zone.value = 'other';
      ui.zoneOther.value = zone;
    }
  }
  const name = state.get('dataset');
  if (name !== null) pick(ui.dataset, name);
}

function showConditionalFields(): void {
  ui.custom.hidden = ui.range.value !== 'custom';
  ui.zoneOtherLabel.hidden = ui.zone.value !== 'other';
  ui.apply.hidden = ui.custom.hidden && ui.zoneOtherLabel.hidden;
  if (!ui.custom.hidden && ui.from.value === '' && ui.to.value === '') {
    const zone = isTimeZone(selectedZone()) ? selectedZone() : 'UTC';
    const now = Date.now();
    ui.from.value = localInputValue(now - 7 * DAY_MS, zone);
    ui.to.value = localInputValue(now, zone);
  }
}

/** What is wrong with the selection, in words; undefined when it can be asked for. */
function problem(sel: Selection): string | undefined {
  if (sel.zone === '') return 'Enter an IANA time zone name, such as Europe/Paris.';
  if (!isTimeZone(sel.zone))
    return `"${sel.zone}" is not a time zone this browser knows: enter an IANA name such as Europe/Paris or America/New_York.`;
  if (sel.range === 'custom' && sel.from !== '' && sel.to !== '' && sel.from >= sel.to)
    return 'The custom range must start before it ends.';
  return undefined;
}

function rangeParams(sel: Selection): URLSearchParams {
  const params = new URLSearchParams();
  const preset = RANGES[sel.range];
  if (preset !== undefined) params.set('since', preset.since);
  if (sel.range === 'custom') {
    if (sel.from !== '') params.set('from', sel.from);
    if (sel.to !== '') params.set('to', sel.to);
  }
  params.set('tz', sel.zone);
  return params;
}

function rangeDays(sel: Selection, stats: Dataset): number {
  const preset = RANGES[sel.range];
  if (preset !== undefined) return preset.days;
  const from =
    sel.range === 'custom' && sel.from !== ''
      ? Date.parse(`${sel.from}Z`)
      : Date.parse(stats.coverage?.from ?? stats.firstTime ?? '');
  const to =
    sel.range === 'custom' && sel.to !== ''
      ? Date.parse(`${sel.to}Z`)
      : Date.parse(stats.coverage?.to ?? stats.lastTime ?? '');
  const days = (to - from) / DAY_MS;
  return Number.isFinite(days) ? days : HOURLY_UP_TO_DAYS + 1;
}

function granularityOf(sel: Selection, stats: Dataset): Granularity {
  if (sel.buckets === '15m' || sel.buckets === '1h' || sel.buckets === '1d') return sel.buckets;
  return rangeDays(sel, stats) <= HOURLY_UP_TO_DAYS ? '1h' : '1d';
}

/** The usage dataset of the same source and activity: its snapshots make the quota chart. */
function pairedUsage(stats: Dataset): Dataset | undefined {
  return datasets.find(
    (d) => d.kind === 'usage' && d.source === stats.source && d.activity === stats.activity,
  );
}

/** A time the page can place on an axis: not the API's open ends (year 0000 or 9999). */
/** The account dataset of the same source and activity: its state and AWS's reputation rates. */
function pairedAccount(stats: Dataset): Dataset | undefined {
  return datasets.find(
    (d) => d.kind === 'account' && d.source === stats.source && d.activity === stats.activity,
  );
}

function plausible(iso: string | null | undefined): number | undefined {
  if (iso === null || iso === undefined) return undefined;
  const ms = Date.parse(iso);
  const year = new Date(ms).getUTCFullYear();
  return Number.isFinite(ms) && year > 1990 && year < 2200 ? ms : undefined;
}

function shownRange(answer: { from: string | null; to: string | null }, stats: Dataset): Span {
  const ends = [
    [answer.from, stats.coverage?.from, stats.firstTime],
    [answer.to, stats.coverage?.to, stats.lastTime],
  ].map((choices) => choices.map(plausible).find((ms) => ms !== undefined));
  const to = ends[1] ?? Date.now();
  const from = ends[0] ?? to - 7 * DAY_MS;
  return {
    from: new Date(from).toISOString(),
    to: new Date(Math.max(to, from + 60_000)).toISOString(),
  };
}

/** The summary's coverage; computed from the dataset's when an API answer lacks it. */
function coverageOf(summary: StatisticsSummary, stats: Dataset, range: Span): Coverage {
  if (summary.coverage !== undefined) return summary.coverage;
  if (stats.coverage === null) return { status: 'none', covered: null, gaps: [] };
  const from = Math.max(Date.parse(range.from), Date.parse(stats.coverage.from));
  const to = Math.min(Date.parse(range.to), Date.parse(stats.coverage.to));
  if (from >= to) return { status: 'none', covered: null, gaps: [] };
  const whole = from === Date.parse(range.from) && to === Date.parse(range.to);
  return {
    status: whole ? 'full' : 'partial',
    covered: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    gaps: gapsWithin(stats.gaps, from, to),
  };
}

async function load(): Promise<void> {
  running?.abort();
  const controller = new AbortController();
  running = controller;
  const sel = selection();
  const wrong = problem(sel);
  if (wrong !== undefined) {
    showError(wrong);
    return;
  }
  const stats = datasets.find((d) => d.name === sel.dataset);
  if (stats === undefined) return;
  writeAddress(sel);
  setState('loading');
  ui.status.textContent = `Loading ${stats.name}…`;
  const usage = pairedUsage(stats);
  const account = pairedAccount(stats);
  const granularity = granularityOf(sel, stats);
  const params = rangeParams(sel);
  const statsParams = new URLSearchParams(params);
  statsParams.set('granularity', granularity);
  try {
    const [records, summary, usageRecords, accountSummary] = await Promise.all([
      allRecords<StatisticsRow>(stats.name, statsParams, controller.signal),
      getJson<StatisticsSummary>(datasetPath(stats.name, 'summary'), params, controller.signal),
      usage === undefined ? undefined : allRecords<UsageRow>(usage.name, params, controller.signal),
      // The account as it is now, whatever the range: its whole history's latest state.
      account === undefined
        ? undefined
        : getJson<AccountSummary>(
            datasetPath(account.name, 'summary'),
            undefined,
            controller.signal,
          ),
    ]);
    if (controller.signal.aborted) return;
    render({
      sel,
      stats,
      usage,
      granularity: records.first.granularity ?? granularity,
      rows: records.rows,
      complete: records.complete,
      range: shownRange(records.first, stats),
      summary,
      usageRows: usageRecords?.rows,
    });
    renderAccount(stats, account, accountSummary, sel.zone);
    ui.error.hidden = true;
    loads++;
    document.body.dataset.loads = String(loads);
    setState('ready');
  } catch (error) {
    if (controller.signal.aborted) return;
    ui.status.textContent = '';
    showError(error instanceof Error ? error.message : String(error));
  }
}

interface View {
  readonly sel: Selection;
  readonly stats: Dataset;
  readonly usage: Dataset | undefined;
  readonly granularity: Granularity;
  readonly rows: readonly StatisticsRow[];
  readonly complete: boolean;
  readonly range: Span;
  readonly summary: StatisticsSummary;
  readonly usageRows: readonly UsageRow[] | undefined;
}

function render(view: View): void {
  const { sel, stats, granularity, rows, range } = view;
  const zone = sel.zone;
  const unit = granularity === '1d' ? 'day' : 'minute';
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  const gaps = gapsWithin(stats.gaps, from, to);
  const when = `${formatTime(from, zone, unit)} – ${formatTime(to, zone, unit)} (${zone})`;
  const per = UNIT_WORD[granularity];

  ui.status.textContent = `${stats.name}: ${formatCount(rows.length)} buckets ${per}, ${when}${view.complete ? '' : '; only the first 200,000 rows are shown'}`;
  ui.countsTitle.textContent = `Sending activity ${per}`;
  renderCoverage(coverageOf(view.summary, stats, range), stats, zone);
  renderTotals(view.summary);

  for (const { chart } of drawn) chart.destroy();
  drawn = [];
  const series = statisticsSeries(rows, granularity, gaps);
  const common = { zone, unit, xRange: [from / 1000, to / 1000], gaps } as const;
  const count = (v: number) => formatCount(v);
  draw(ui.charts.counts, `Delivery attempts, bounces, complaints and rejects ${per}, ${when}`, {
    ...common,
    height: 260,
    lines: [
      {
        label: 'Delivery attempts',
        scale: 'attempts',
        colour: COLOURS.attempts,
        width: 2,
        format: count,
      },
      { label: 'Bounces', scale: 'events', colour: COLOURS.bounces, dash: [6, 3], format: count },
      {
        label: 'Complaints',
        scale: 'events',
        colour: COLOURS.complaints,
        dash: [2, 3],
        format: count,
      },
      {
        label: 'Rejects',
        scale: 'events',
        colour: COLOURS.rejects,
        dash: [10, 3, 2, 3],
        format: count,
      },
    ],
    axes: [
      { scale: 'attempts', label: 'delivery attempts', side: 'left', floor: 10 },
      { scale: 'events', label: 'bounces · complaints · rejects', side: 'right', floor: 5 },
    ],
    data: [series.x, series.attempts, series.bounces, series.complaints, series.rejects],
  });
  draw(ui.charts.bounce, `Bounce rate ${per} in percent, ${when}; review at 5%, pause at 10%`, {
    ...common,
    height: 190,
    lines: [
      { label: 'Bounce rate', scale: 'rate', colour: COLOURS.bounces, format: formatPercent },
    ],
    axes: [
      {
        scale: 'rate',
        label: 'bounce rate',
        side: 'left',
        percent: true,
        floor: BOUNCE_LEVELS.pause,
      },
    ],
    levels: levels('bounce', BOUNCE_LEVELS),
    data: [series.x, series.bounceRate],
  });
  draw(
    ui.charts.complaint,
    `Complaint rate ${per} in percent, ${when}; review at 0.1%, pause at 0.5%`,
    {
      ...common,
      height: 190,
      lines: [
        {
          label: 'Complaint rate',
          scale: 'rate',
          colour: COLOURS.complaints,
          format: formatPercent,
        },
      ],
      axes: [
        {
          scale: 'rate',
          label: 'complaint rate',
          side: 'left',
          percent: true,
          floor: COMPLAINT_LEVELS.pause,
        },
      ],
      levels: levels('complaint', COMPLAINT_LEVELS),
      data: [series.x, series.complaintRate],
    },
  );
  renderQuota(view, common);
  renderTable(view, unit, when);
}

function levels(what: string, at: { review: number; pause: number }): Level[] {
  return [
    {
      value: at.review,
      scale: 'rate',
      label: `${what} review ${at.review}%`,
      colour: COLOURS.review,
    },
    { value: at.pause, scale: 'rate', label: `${what} pause ${at.pause}%`, colour: COLOURS.pause },
  ];
}

function draw(target: HTMLElement, label: string, spec: ChartSpec): void {
  target.setAttribute('aria-label', label);
  target.replaceChildren();
  drawn.push({ chart: drawChart(target, spec), target });
}

function renderQuota(
  view: View,
  common: Pick<ChartSpec, 'zone' | 'unit' | 'xRange' | 'gaps'>,
): void {
  const { usage, usageRows, sel } = view;
  const target = ui.charts.quota;
  if (usage === undefined || usageRows === undefined) {
    ui.quotaNote.textContent = `No usage dataset has the source and activity of ${view.stats.name} (${view.stats.source} / ${view.stats.activity}): no quota to show.`;
    target.replaceChildren();
    target.setAttribute('aria-label', 'No quota chart');
    return;
  }
  const gaps = [...common.gaps, ...usage.gaps];
  const latest = usageRows.at(-1);
  let peak: UsageRow | undefined;
  for (const row of usageRows)
    if ((utilisation(row) ?? -1) > (peak === undefined ? -1 : (utilisation(peak) ?? -1)))
      peak = row;
  const at = (row: UsageRow) => formatTime(Date.parse(row.CollectedAt), sel.zone);
  ui.quotaNote.textContent =
    latest === undefined
      ? `${usage.name}: no quota snapshot in this range.`
      : `${usage.name}, latest snapshot ${at(latest)}: ${
          latest.Max24HourSend < 0
            ? `unlimited 24-hour quota, ${formatCount(latest.SentLast24Hours)} sent`
            : `${formatCount(latest.SentLast24Hours)} of ${formatCount(latest.Max24HourSend)} sent in 24 hours (${formatPercent(utilisation(latest))})`
        }, at most ${formatCount(latest.MaxSendRate)} per second${
          peak === undefined
            ? ''
            : `; peak in range ${formatPercent(utilisation(peak))} at ${at(peak)}`
        }; ${formatCount(usageRows.length)} snapshots.`;
  draw(target, `Quota use in percent at each collect: ${ui.quotaNote.textContent}`, {
    ...common,
    unit: 'minute',
    gaps,
    height: 190,
    lines: [
      {
        label: 'Quota used',
        scale: 'quota',
        colour: COLOURS.quota,
        width: 2,
        format: formatPercent,
      },
    ],
    axes: [
      { scale: 'quota', label: 'of the 24-hour quota', side: 'left', percent: true, floor: 100 },
    ],
    levels: [{ value: 100, scale: 'quota', label: '24-hour quota', colour: COLOURS.pause }],
    data: quotaSeries(usageRows, gaps),
  });
}

/**
 * The paired account dataset's latest state in words (what is wrong in capitals, never a colour
 * alone), its last change, and AWS's latest reputation rates against the review levels.
 */
function renderAccount(
  stats: Dataset,
  account: Dataset | undefined,
  summary: AccountSummary | undefined,
  zone: string,
): void {
  if (account === undefined || summary === undefined) {
    ui.accountState.textContent = `No account dataset has the source and activity of ${stats.name} (${stats.source} / ${stats.activity}): no account state to show.`;
    ui.accountReputation.textContent = '';
    return;
  }
  const time = (iso: string) => formatTime(Date.parse(iso), zone);
  const state = summary.latest;
  if (state === null) ui.accountState.textContent = `${account.name}: no account state stored yet.`;
  else {
    const review =
      state.ReviewStatus === null
        ? ''
        : `; review ${state.ReviewStatus}${state.ReviewCaseId === null ? '' : ` (case ${state.ReviewCaseId})`}`;
    ui.accountState.textContent = `${account.name}: ${state.EnforcementStatus}, ${
      state.SendingEnabled ? 'sending enabled' : 'sending DISABLED'
    }, ${
      state.ProductionAccessEnabled ? 'production access' : 'in the SANDBOX (no production access)'
    }${review}. Last change ${time(state.FirstSeen)}, last seen ${time(state.LastSeen)}; ${formatCount(
      summary.stateChanges ?? 0,
    )} ${summary.stateChanges === 1 ? 'change' : 'changes'} stored.`;
  }
  const r = summary.latestReputation;
  const rate = (
    name: string,
    value: number | null,
    at: string | null,
    levels: typeof BOUNCE_LEVELS,
  ) =>
    value === null || at === null
      ? `${name}: none published`
      : `${name} ${formatPercent(value * 100)} at ${time(at)} (${levelWords(value, levels)})`;
  ui.accountReputation.textContent =
    r === null
      ? 'AWS reputation rates: none stored.'
      : `AWS reputation rates: ${rate('bounce', r.BounceRate, r.BounceRateAt, BOUNCE_LEVELS)}; ${rate(
          'complaint',
          r.ComplaintRate,
          r.ComplaintRateAt,
          COMPLAINT_LEVELS,
        )}.`;
}

function renderCoverage(coverage: Coverage, stats: Dataset, zone: string): void {
  const time = (iso: string) => formatTime(Date.parse(iso), zone);
  const span = (s: Span) => `${time(s.from)} – ${time(s.to)}`;
  if (coverage.status === 'none' || coverage.covered === null) {
    ui.coverage.textContent = `This range lies outside the stored history${
      stats.coverage === null ? ' (nothing is stored yet)' : ` (stored: ${span(stats.coverage)})`
    }.`;
    return;
  }
  const n = coverage.gaps.length;
  const listed = coverage.gaps.slice(0, 3).map(span).join(', ');
  ui.coverage.textContent = `Covers ${span(coverage.covered)}${
    coverage.status === 'partial' ? ', part of the range' : ', the whole range'
  }; ${n === 0 ? 'no gaps' : `${n} ${n === 1 ? 'gap' : 'gaps'} (${listed}${n > 3 ? ', …' : ''})`}.`;
}

/** "below the review level of 5%" and the like: the words carry the level, not a colour. */
function levelWords(rate: number | null, at: { review: number; pause: number }): string {
  if (rate === null) return 'no delivery attempts';
  const percent = rate * 100;
  if (percent >= at.pause) return `at or above the pause level of ${at.pause}%`;
  if (percent >= at.review) return `at or above the review level of ${at.review}%`;
  return `below the review level of ${at.review}%`;
}

function renderTotals(summary: StatisticsSummary): void {
  const { DeliveryAttempts, Bounces, Complaints, Rejects } = summary;
  if (DeliveryAttempts === null || Bounces === null || Complaints === null || Rejects === null) {
    ui.totals.textContent = 'No totals: nothing is stored for this range.';
    return;
  }
  const part = (text: string, level?: string, alarm?: boolean) => {
    const span = document.createElement('span');
    span.textContent = text;
    if (level !== undefined) {
      const words = document.createElement(alarm ? 'strong' : 'span');
      words.className = 'level';
      words.textContent = level;
      span.append(' (', words, ')');
    }
    return span;
  };
  const rate = (r: number | null) => formatPercent(r === null ? null : r * 100);
  const over = (r: number | null, review: number) => r !== null && r * 100 >= review;
  ui.totals.replaceChildren(
    part(`In this range: ${formatCount(DeliveryAttempts)} delivery attempts`),
    ' · ',
    part(
      `${formatCount(Bounces)} bounces, ${rate(summary.BounceRate)}`,
      levelWords(summary.BounceRate, BOUNCE_LEVELS),
      over(summary.BounceRate, BOUNCE_LEVELS.review),
    ),
    ' · ',
    part(
      `${formatCount(Complaints)} complaints, ${rate(summary.ComplaintRate)}`,
      levelWords(summary.ComplaintRate, COMPLAINT_LEVELS),
      over(summary.ComplaintRate, COMPLAINT_LEVELS.review),
    ),
    ' · ',
    part(`${formatCount(Rejects)} rejects, ${rate(summary.RejectRate)}`),
  );
}

function renderTable(view: View, unit: 'minute' | 'day', when: string): void {
  const { rows, sel, granularity } = view;
  const body = document.createDocumentFragment();
  for (const row of rows) {
    const tr = document.createElement('tr');
    const time = document.createElement('th');
    time.scope = 'row';
    const stamp = document.createElement('time');
    stamp.dateTime = row.Timestamp;
    stamp.textContent = formatTime(Date.parse(row.Timestamp), sel.zone, unit);
    time.append(stamp);
    tr.append(time);
    const a = row.DeliveryAttempts;
    for (const text of [
      formatCount(a),
      formatCount(row.Bounces),
      formatCount(row.Complaints),
      formatCount(row.Rejects),
      formatPercent(a > 0 ? (row.Bounces / a) * 100 : null),
      formatPercent(a > 0 ? (row.Complaints / a) * 100 : null),
    ]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    body.append(tr);
  }
  ui.rows.replaceChildren(body);
  ui.tableSummary.textContent = `Table: ${formatCount(rows.length)} rows ${UNIT_WORD[granularity]}`;
  ui.tableCaption.textContent = `${view.stats.name} ${UNIT_WORD[granularity]}, ${when}; buckets without sending are not listed.`;
}

async function start(): Promise<void> {
  const local = browserZone();
  if (local !== 'UTC' && local !== 'Etc/UTC' && isTimeZone(local))
    ui.zone.insertBefore(option(local, `${local} (this browser)`), ui.zone.options[1] ?? null);
  setState('loading');
  try {
    datasets = (await getJson<{ datasets: Dataset[] }>('datasets', undefined)).datasets;
  } catch (error) {
    ui.status.textContent = '';
    showError(
      `Cannot list the datasets: ${error instanceof Error ? error.message : String(error)}`,
    );
    return;
  }
  const statistics = datasets
    .filter((d) => d.kind === 'statistics')
    .sort((a, b) => a.name.localeCompare(b.name));
  if (statistics.length === 0) {
    ui.status.textContent = 'No statistics dataset is stored yet: run "ses-stats collect" first.';
    setState('empty');
    return;
  }
  for (const d of statistics)
    ui.dataset.append(option(d.name, `${d.name} (${d.source} / ${d.activity})`));
  readAddress();
  showConditionalFields();
  for (const control of [ui.dataset, ui.range, ui.zone, ui.buckets])
    control.addEventListener('change', () => {
      showConditionalFields();
      // "other" first needs its name typed in.
      if (control === ui.zone && ui.zone.value === 'other' && ui.zoneOther.value.trim() === '') {
        ui.zoneOther.focus();
        return;
      }
      void load();
    });
  for (const input of [ui.from, ui.to, ui.zoneOther])
    input.addEventListener('change', () => void load());
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  new ResizeObserver(() => {
    for (const { chart, target } of drawn)
      if (chart.width !== chartWidth(target))
        chart.setSize({ width: chartWidth(target), height: chart.height });
  }).observe(ui.main);
  await load();
}

void start();
