import { mapLimited } from '../core/concurrency.ts';
import {
  type AccountRow,
  type ReputationRow,
  type UsageRow,
  utilisation,
} from '../core/datasets.ts';
import { summarize } from '../core/query.ts';
import type { DatasetMeta, DatasetStore } from '../core/store.ts';
import { ALL_TIME, DAY_MS, SES_WINDOW_MS } from '../core/time.ts';

/** The `Content-Type` of `renderMetrics`' output: Prometheus text exposition format 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Every family `renderMetrics` writes, in output order, with its HELP text (no `\` or `"`, so it
 * needs no escaping in either format). All are gauges: a windowed count goes down as the window
 * moves on, so none is a counter. Every series carries `dataset`; the info family also `kind`,
 * `source` and `activity` (join on `dataset` to group the others by them).
 */
const FAMILIES = {
  ses_stats_dataset_info:
    'Always 1; the labels say the kind of the dataset, and the session (source) and activity that last wrote it.',
  ses_stats_dataset_rows:
    'Rows stored: raw 15-minute points (statistics) or quota snapshots (usage).',
  ses_stats_dataset_gaps:
    'Spans inside the covered time that no fetch saw (SES no longer has their data).',
  ses_stats_last_collection_timestamp_seconds:
    'Unix time of the last successful collection: the end of the last stored fetch window (statistics) or the latest snapshot (usage).',
  ses_stats_quota_max_24h_send:
    'Max24HourSend of the latest quota snapshot; absent when the quota is unlimited.',
  ses_stats_quota_max_send_rate:
    'MaxSendRate of the latest quota snapshot, in messages per second.',
  ses_stats_quota_sent_last_24h: 'SentLast24Hours of the latest quota snapshot.',
  ses_stats_quota_utilisation_ratio:
    'SentLast24Hours / Max24HourSend of the latest quota snapshot (0-1); absent when the quota is unlimited.',
  ses_stats_quota_unlimited:
    '1 when the latest quota snapshot has an unlimited Max24HourSend (-1), else 0.',
  ses_stats_last_24h_delivery_attempts:
    'DeliveryAttempts summed over the points with Timestamp in the last 24 hours.',
  ses_stats_last_24h_bounces: 'Bounces summed over the points with Timestamp in the last 24 hours.',
  ses_stats_last_24h_complaints:
    'Complaints summed over the points with Timestamp in the last 24 hours.',
  ses_stats_last_24h_rejects: 'Rejects summed over the points with Timestamp in the last 24 hours.',
  ses_stats_window_delivery_attempts:
    'DeliveryAttempts summed over the points with Timestamp in the last 14 days (the SES window).',
  ses_stats_window_bounces:
    'Bounces summed over the points with Timestamp in the last 14 days (the SES window).',
  ses_stats_window_complaints:
    'Complaints summed over the points with Timestamp in the last 14 days (the SES window).',
  ses_stats_window_rejects:
    'Rejects summed over the points with Timestamp in the last 14 days (the SES window).',
  ses_stats_window_bounce_ratio:
    'Bounces / DeliveryAttempts over the last 14 days (0-1); absent when there were no delivery attempts.',
  ses_stats_window_complaint_ratio:
    'Complaints / DeliveryAttempts over the last 14 days (0-1); absent when there were no delivery attempts.',
  ses_stats_window_reject_ratio:
    'Rejects / DeliveryAttempts over the last 14 days (0-1); absent when there were no delivery attempts.',
  ses_stats_account_status_info:
    'Always 1; the labels say the EnforcementStatus and ReviewStatus (empty when none) of the latest account state.',
  ses_stats_account_healthy:
    '1 when the EnforcementStatus of the latest account state is HEALTHY, else 0 (PROBATION, SHUTDOWN).',
  ses_stats_account_sending_enabled: '1 when the latest account state has sending enabled, else 0.',
  ses_stats_account_production_access:
    '1 when the latest account state has production access, 0 when the account is in the sandbox.',
  ses_stats_account_last_change_timestamp_seconds:
    'Unix time the latest account state was first seen: the last change of the account.',
  ses_stats_account_reputation_bounce_ratio:
    'The latest hourly Reputation.BounceRate stored (0-1), AWS own rate; absent when none in the two days before the last fetch.',
  ses_stats_account_reputation_complaint_ratio:
    'The latest hourly Reputation.ComplaintRate stored (0-1), AWS own rate; absent when none in the two days before the last fetch.',
  ses_stats_account_reputation_timestamp_seconds:
    'Unix time of the hour of the latest reputation rate stored.',
} as const satisfies Record<string, string>;

type Family = keyof typeof FAMILIES;

interface Sample {
  readonly family: Family;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Datasets read at once: each needs a few small reads. */
const DATASETS_IN_FLIGHT = 8;

/**
 * The `/metrics` page: gauges per dataset in Prometheus text format 0.0.4, also valid OpenMetrics
 * text (ends with `# EOF`, a comment to 0.0.4 parsers). Windows are [now − 24 h, now) and
 * [now − 14 days, now) over the points' Timestamps, summed exactly from raw points at the edges
 * and rollups inside (the store is read by key, about one item per hour or day); a usage dataset
 * reads its snapshots from the metadata's last one on.
 *
 * A value that cannot be computed is left out rather than written as NaN (a rate with no delivery
 * attempts, utilisation of an unlimited quota): NaN would turn every aggregation over datasets
 * into NaN and compares false in alerts anyway, while a missing series shows in `absent()` and
 * the window's delivery attempts (0) say why. Counts `summarize` reports as unknown (null: a
 * window its stored history does not reach) are left out the same way. An empty store gives every
 * HELP and TYPE line and no series.
 */
export async function renderMetrics(store: DatasetStore, now: Date): Promise<string> {
  const metas = (await store.listMeta()).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const perDataset = await mapLimited(metas, DATASETS_IN_FLIGHT, (meta) =>
    datasetSamples(store, meta, now),
  );
  const samples = perDataset.flat();
  const lines: string[] = [];
  for (const [family, help] of Object.entries(FAMILIES) as Array<[Family, string]>) {
    lines.push(`# HELP ${family} ${help}`, `# TYPE ${family} gauge`);
    for (const s of samples) if (s.family === family) lines.push(sampleLine(s));
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

async function datasetSamples(
  store: DatasetStore,
  meta: DatasetMeta,
  now: Date,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const add = (family: Family, value: number | null | undefined) => {
    if (value !== null && value !== undefined && !Number.isNaN(value))
      samples.push({ family, labels: { dataset: meta.name }, value });
  };
  samples.push({
    family: 'ses_stats_dataset_info',
    labels: { dataset: meta.name, kind: meta.kind, source: meta.source, activity: meta.activity },
    value: 1,
  });
  add('ses_stats_dataset_rows', meta.count);
  add('ses_stats_dataset_gaps', meta.gaps.length);
  if (meta.kind === 'account') {
    const [state, reputation] = await Promise.all([
      latestState(store, meta),
      recentReputation(store, meta, now),
    ]);
    if (state !== undefined) {
      add('ses_stats_last_collection_timestamp_seconds', unixSeconds(state.LastSeen));
      samples.push({
        family: 'ses_stats_account_status_info',
        labels: {
          dataset: meta.name,
          enforcement_status: state.EnforcementStatus,
          review_status: state.ReviewStatus ?? '',
        },
        value: 1,
      });
      add('ses_stats_account_healthy', state.EnforcementStatus === 'HEALTHY' ? 1 : 0);
      add('ses_stats_account_sending_enabled', state.SendingEnabled ? 1 : 0);
      add('ses_stats_account_production_access', state.ProductionAccessEnabled ? 1 : 0);
      add('ses_stats_account_last_change_timestamp_seconds', unixSeconds(state.FirstSeen));
    }
    const bounce = reputation.findLast((r) => r.BounceRate !== null);
    const complaint = reputation.findLast((r) => r.ComplaintRate !== null);
    add('ses_stats_account_reputation_bounce_ratio', bounce?.BounceRate);
    add('ses_stats_account_reputation_complaint_ratio', complaint?.ComplaintRate);
    const hours = [bounce, complaint].flatMap((r) =>
      r === undefined ? [] : [Date.parse(r.Timestamp)],
    );
    if (hours.length > 0)
      add('ses_stats_account_reputation_timestamp_seconds', Math.max(...hours) / 1000);
    return samples;
  }
  if (meta.kind === 'usage') {
    const latest = await latestSnapshot(store, meta);
    if (latest === undefined) return samples;
    const unlimited = latest.Max24HourSend === -1;
    add('ses_stats_last_collection_timestamp_seconds', unixSeconds(latest.CollectedAt));
    if (!unlimited) add('ses_stats_quota_max_24h_send', latest.Max24HourSend);
    add('ses_stats_quota_max_send_rate', latest.MaxSendRate);
    add('ses_stats_quota_sent_last_24h', latest.SentLast24Hours);
    add('ses_stats_quota_utilisation_ratio', utilisation(latest));
    add('ses_stats_quota_unlimited', unlimited ? 1 : 0);
    return samples;
  }
  // coverage.to is the fetch time of the latest statistics fetch stored in full (persist.ts
  // writes it after the points and rollups, and never moves it back).
  if (meta.coverage !== undefined)
    add('ses_stats_last_collection_timestamp_seconds', unixSeconds(meta.coverage.to));
  const to = now.toISOString();
  const since = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const [day, window] = await Promise.all([
    summarize(store, meta.name, { from: since(DAY_MS), to }),
    summarize(store, meta.name, { from: since(SES_WINDOW_MS), to }),
  ]);
  add('ses_stats_last_24h_delivery_attempts', numberIn(day, 'DeliveryAttempts'));
  add('ses_stats_last_24h_bounces', numberIn(day, 'Bounces'));
  add('ses_stats_last_24h_complaints', numberIn(day, 'Complaints'));
  add('ses_stats_last_24h_rejects', numberIn(day, 'Rejects'));
  add('ses_stats_window_delivery_attempts', numberIn(window, 'DeliveryAttempts'));
  add('ses_stats_window_bounces', numberIn(window, 'Bounces'));
  add('ses_stats_window_complaints', numberIn(window, 'Complaints'));
  add('ses_stats_window_rejects', numberIn(window, 'Rejects'));
  add('ses_stats_window_bounce_ratio', numberIn(window, 'BounceRate'));
  add('ses_stats_window_complaint_ratio', numberIn(window, 'ComplaintRate'));
  add('ses_stats_window_reject_ratio', numberIn(window, 'RejectRate'));
  return samples;
}

/**
 * The newest usage snapshot. `lastTime` is the key of the last one counted; snapshots after it
 * come only from runs stopped before their metadata write, so reading from it on is a read of a
 * few items. A `lastTime` no snapshot has (another key form, from an older store) gets one wider
 * read of the day before it.
 */
async function latestSnapshot(
  store: DatasetStore,
  meta: DatasetMeta,
): Promise<UsageRow | undefined> {
  const last = meta.lastTime === undefined ? Number.NaN : Date.parse(meta.lastTime);
  if (Number.isNaN(last)) return undefined;
  // Usage keys carry milliseconds (`toISOString`); bounds in the same form compare as times.
  for (const from of [last, last - DAY_MS]) {
    const rows = await store.readUsage(meta.name, {
      from: new Date(from).toISOString(),
      to: ALL_TIME.to,
    });
    const latest = rows.at(-1);
    if (latest !== undefined) return latest;
  }
  return undefined;
}

/**
 * The latest account state: the one first seen at the metadata's last change, or a later one a run
 * stopped before its metadata write left (a read of one or two items).
 */
async function latestState(
  store: DatasetStore,
  meta: DatasetMeta,
): Promise<AccountRow | undefined> {
  const rows = await store.readAccountStates(meta.name, {
    from: meta.lastChange ?? ALL_TIME.from,
    to: ALL_TIME.to,
  });
  return rows.at(-1);
}

/** Reputation hours over the two days before the last fetch (or now): about 48 items. */
async function recentReputation(
  store: DatasetStore,
  meta: DatasetMeta,
  now: Date,
): Promise<ReputationRow[]> {
  const last = meta.lastTime === undefined ? Number.NaN : Date.parse(meta.lastTime);
  const end = Number.isNaN(last) ? now.getTime() : last;
  return store.readReputation(meta.name, {
    from: new Date(end - REPUTATION_LOOKBACK_MS).toISOString(),
    to: ALL_TIME.to,
  });
}

/** CloudWatch publishes an hour's reputation rates late; two days always hold the latest. */
const REPUTATION_LOOKBACK_MS = 2 * DAY_MS;

function numberIn(summary: Record<string, unknown>, key: string): number | undefined {
  const value = summary[key];
  return typeof value === 'number' ? value : undefined;
}

function unixSeconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

function sampleLine({ family, labels, value }: Sample): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return `${family}{${pairs.join(',')}} ${formatValue(value)}`;
}

/** `\`, `"` and line feed are the three characters a label value escapes (both formats). */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Go's ParseFloat forms: JavaScript writes `Infinity`, the formats `+Inf`. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}
