import { UsageError } from '../core/errors.ts';
import { parseQueryOptions, summarize } from '../core/query.ts';
import { parseFlags } from './args.ts';
import { EXIT_FAILED, type Io } from './io.ts';
import { percent } from './output.ts';
import { help, onlyDataset, withStore } from './read-support.ts';
import { STORE_FLAGS, STORE_HELP, shown } from './store-options.ts';

const DEFAULT_SINCE = '24h';

/** Each threshold: its flag, the dataset kind it applies to, and what it measures. */
const THRESHOLDS = {
  'max-bounce-rate': { kind: 'statistics', rate: 'BounceRate', count: 'Bounces', what: 'bounce' },
  'max-complaint-rate': {
    kind: 'statistics',
    rate: 'ComplaintRate',
    count: 'Complaints',
    what: 'complaint',
  },
  'max-quota-utilisation': { kind: 'usage' },
} as const;
type ThresholdFlag = keyof typeof THRESHOLDS;
const THRESHOLD_FLAGS = Object.keys(THRESHOLDS) as ThresholdFlag[];

const FLAGS = {
  'max-bounce-rate': { type: 'string' },
  'max-complaint-rate': { type: 'string' },
  'max-quota-utilisation': { type: 'string' },
  since: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
  ...STORE_FLAGS,
} as const;

const HELP = `Usage: ses-stats check DATASET [--max-bounce-rate R] [--max-complaint-rate R] [--max-quota-utilisation R] [--since DURATION]

Checks stored data against thresholds, for cron jobs and CI. One line on stdout: "ok: …" and
exit 0 when every given threshold holds; "crossed: …" and exit 1 when one is above its R;
"unchecked: …" and exit 1 when nothing stored covers the span. R is a fraction (0.05) or a
percentage (5%), above 0 and at most 1 (100%); a rate equal to R holds. At least one threshold
is required.

Statistics datasets: the window rates over the last --since (7d, 24h, 90m, 2w; default ${DEFAULT_SINCE})
  --max-bounce-rate R          Bounces / DeliveryAttempts
  --max-complaint-rate R       Complaints / DeliveryAttempts
  A span without delivery attempts holds (exit 0, and the line says so).
Usage datasets: the latest snapshot in the last --since
  --max-quota-utilisation R    SentLast24Hours / Max24HourSend (an unlimited quota holds)

${STORE_HELP}
Exit codes: 0 within every threshold, 1 a threshold crossed, nothing stored covers the span, or the
store failed, 2 usage error (a bad R, no threshold, a threshold for the other kind of dataset).
`;

type Summary = Readonly<Record<string, unknown>>;

export async function checkCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags('check', args, FLAGS, true);
  if (values.help) return help(io, HELP);
  // Everything is checked before the store is opened.
  const name = onlyDataset('check', positionals);
  const limits = new Map<ThresholdFlag, number>();
  for (const flag of THRESHOLD_FLAGS) {
    const given = values[flag];
    if (given !== undefined) limits.set(flag, ratio(flag, given));
  }
  if (limits.size === 0)
    throw new UsageError(
      `expected at least one threshold: ${THRESHOLD_FLAGS.map((f) => `--${f} R`).join(', ')} (see ses-stats check --help)`,
    );
  const since = values.since ?? DEFAULT_SINCE;
  const options = { since };
  parseQueryOptions(options);
  let verdict: Verdict = { status: 'unchecked', line: name };
  const code = await withStore(values, io, async (store) => {
    const summary = await summarize(store, name, options);
    for (const flag of limits.keys()) {
      const kind = THRESHOLDS[flag].kind;
      if (summary.kind !== kind)
        throw new UsageError(
          `--${flag}: applies to ${kind} datasets; ${shown(name)} is ${summary.kind === 'account' ? 'an' : 'a'} ${String(summary.kind)} dataset`,
        );
    }
    verdict =
      summary.kind === 'usage'
        ? checkUsage(name, since, summary, limits.get('max-quota-utilisation') ?? 1)
        : checkStatistics(name, since, summary, limits);
  });
  io.stdout.write(`${verdict.status}: ${verdict.line}\n`);
  return verdict.status === 'ok' ? code : EXIT_FAILED;
}

/** `ok` exits 0; `crossed` (a threshold) and `unchecked` (no stored data for the span) exit 1. */
interface Verdict {
  readonly status: 'ok' | 'crossed' | 'unchecked';
  readonly line: string;
}

function checkStatistics(
  name: string,
  since: string,
  summary: Summary,
  limits: ReadonlyMap<ThresholdFlag, number>,
): Verdict {
  const span = `the last ${since}`;
  const coverage = coverageOf(summary);
  if (coverage?.status === 'none')
    return {
      status: 'unchecked',
      line: `${name}: nothing stored covers ${span}: ${noteOf(coverage)}`,
    };
  const attempts = numberAt(summary, 'DeliveryAttempts') ?? 0;
  const stored = storedPart(coverage, summary.from);
  if (attempts === 0)
    return {
      status: 'ok',
      line: `${name}: no delivery attempts in ${span}${stored}, so no rate crossed ${givenText(limits)}`,
    };
  const crossed: string[] = [];
  const within: string[] = [];
  for (const [flag, limit] of limits) {
    const threshold = THRESHOLDS[flag];
    if (threshold.kind !== 'statistics') continue;
    const rate = numberAt(summary, threshold.rate) ?? 0;
    const count = numberAt(summary, threshold.count) ?? 0;
    if (rate > limit)
      crossed.push(
        `${threshold.what} rate ${percent(rate)} (${count} ${threshold.count}) is above --${flag} ${percent(limit)}`,
      );
    else within.push(`${threshold.what} rate ${percent(rate)} (max ${percent(limit)})`);
  }
  const over = `over ${span}${stored} (${attempts} delivery attempts)`;
  return crossed.length > 0
    ? { status: 'crossed', line: `${name}: ${crossed.join('; ')} ${over}` }
    : { status: 'ok', line: `${name}: ${within.join(', ')} ${over}` };
}

function checkUsage(name: string, since: string, summary: Summary, limit: number): Verdict {
  const span = `the last ${since}`;
  const coverage = coverageOf(summary);
  const latest = summary.latest as Readonly<Record<string, unknown>> | null | undefined;
  if (coverage?.status === 'none' || latest === null || latest === undefined)
    return {
      status: 'unchecked',
      line: `${name}: no usage snapshot in ${span}${coverage?.note === undefined ? '' : `: ${coverage.note}`}`,
    };
  const at = String(latest.CollectedAt);
  const sent = numberAt(latest, 'SentLast24Hours');
  const max = numberAt(latest, 'Max24HourSend');
  const utilisation = numberAt(latest, 'Utilisation');
  const limitText = `--max-quota-utilisation ${percent(limit)}`;
  if (latest.Unlimited === true)
    return {
      status: 'ok',
      line: `${name}: the sending quota is unlimited (Max24HourSend ${max}), so no utilisation to check against ${limitText} (snapshot at ${at})`,
    };
  if (utilisation === undefined)
    return {
      status: 'unchecked',
      line: `${name}: the latest snapshot (${at}) has Max24HourSend ${max}, so no utilisation to check against ${limitText}`,
    };
  const figures = `(${sent} of Max24HourSend ${max} sent in the 24 hours before the snapshot at ${at})`;
  return utilisation > limit
    ? {
        status: 'crossed',
        line: `${name}: quota utilisation ${percent(utilisation)} is above ${limitText} ${figures}`,
      }
    : {
        status: 'ok',
        line: `${name}: quota utilisation ${percent(utilisation)} (max ${percent(limit)}) ${figures}`,
      };
}

interface Coverage {
  readonly status: 'full' | 'partial' | 'none';
  readonly covered: { readonly from: string; readonly to: string } | null;
  readonly gaps: ReadonlyArray<{ readonly from: string; readonly to: string }>;
  readonly note?: string;
}

function coverageOf(summary: Summary): Coverage | undefined {
  return summary.coverage as Coverage | undefined;
}

function noteOf(coverage: Coverage): string {
  return coverage.note ?? 'the range lies outside the stored history';
}

/**
 * The stored part of the span when it is not all of it (the last collect ends it; an older one
 * leaves more of the span unchecked), and the gaps inside, so a pass never hides missing data.
 */
function storedPart(coverage: Coverage | undefined, start: unknown): string {
  if (coverage === undefined || coverage.covered === null) return '';
  const { from, to } = coverage.covered;
  const part =
    coverage.status !== 'partial'
      ? ''
      : from === start
        ? `, stored up to ${to}`
        : `, stored from ${from} to ${to}`;
  const gaps = coverage.gaps.map((g) => `${g.from}/${g.to}`).join(' ');
  return `${part}${gaps === '' ? '' : `, with gaps (data SES no longer had) ${gaps}`}`;
}

function givenText(limits: ReadonlyMap<ThresholdFlag, number>): string {
  return [...limits].map(([flag, limit]) => `--${flag} ${percent(limit)}`).join(', ');
}

function numberAt(record: Readonly<Record<string, unknown>>, field: string): number | undefined {
  const value = record[field];
  return typeof value === 'number' ? value : undefined;
}

const RATIO = /^(\d+(\.\d*)?|\.\d+)(%?)$/;

/** A fraction (0.05) or a percentage (5%), above 0 and at most 1 (100%). */
export function ratio(flag: string, text: string): number {
  const match = RATIO.exec(text);
  const value = match === null ? Number.NaN : Number(match[1]) / (match[3] === '%' ? 100 : 1);
  if (!(value > 0 && value <= 1))
    throw new UsageError(
      `--${flag}: received ${shown(text)}; expected a fraction above 0 and at most 1 (0.05) or a percentage above 0% and at most 100% (5%)`,
    );
  return value;
}
