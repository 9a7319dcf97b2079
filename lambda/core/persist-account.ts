import {
  type AccountRow,
  type ReputationRow,
  sameAccountState,
  sameReputation,
} from './datasets.ts';
import { StoreError } from './errors.ts';
import { checkKind, extend, updateMeta } from './persist-meta.ts';
import type { AccountDataset, AccountStoreReport, ActivitySpec } from './results.ts';
import type { DatasetMeta, DatasetStore } from './store.ts';
import { ALL_TIME, addMs } from './time.ts';

/** Attempts at a new state before a run gives up to writers that keep changing the dataset. */
const CHANGE_ATTEMPTS = 5;

/**
 * Stores one account fetch: the state seen, as a new row only when a field changed since the
 * latest stored state (otherwise that state's LastSeen moves to this fetch), and the reputation
 * hours that are new or whose rates changed, each conditional on the fetch time so an older fetch
 * never overwrites a newer one. An hour CloudWatch left out in this fetch keeps its stored rate.
 *
 * A new state and the metadata that counts it are written in one atomic step, conditional on the
 * metadata's version (`putAccountChange`): of two runs that see one change at once, one writes it
 * and the other, finding the version moved, reads again and only moves its LastSeen; a run stopped
 * anywhere leaves either both or neither. A row an older version wrote without its metadata
 * (after the metadata's `lastChange`) is still found, compared with and counted.
 */
export async function storeAccountResult(
  store: DatasetStore,
  activity: ActivitySpec,
  account: AccountDataset,
  fetchedAt: Date,
): Promise<AccountStoreReport> {
  const { name } = account;
  const reputation = writeReputation(
    store,
    name,
    account.reputation,
    (account.reputationFetchedAt ?? fetchedAt).toISOString(),
  );
  reputation.catch(() => undefined);
  const seen = account.rows[0];
  for (let attempt = 1; attempt <= CHANGE_ATTEMPTS; attempt++) {
    const meta = await store.getMeta(name);
    checkKind(meta, name, 'account');
    const states = await store.readAccountStates(name, {
      from: meta?.lastChange ?? ALL_TIME.from,
      to: ALL_TIME.to,
    });
    const latest = states.at(-1);
    const decision = decide(latest, seen);
    const rows = withWrite(states, decision.write);
    const report = async (): Promise<AccountStoreReport> => {
      const { written, skipped } = await reputation;
      return {
        changed: decision.changed,
        ...(decision.changed && latest !== undefined ? { previous: latest } : {}),
        ...(rows.length === 0
          ? {}
          : { lastChange: (decision.changed ? seen : latest)?.FirstSeen, latest: rows.at(-1) }),
        reputationWritten: written,
        reputationSkipped: skipped,
      };
    };
    if (decision.changed && decision.write !== undefined) {
      const next = countStates(meta ?? emptyAccountMeta(name), rows, activity);
      if (await store.putAccountChange(name, decision.write, next)) return report();
      continue; // another run changed the dataset: decide again on what it stored
    }
    if (decision.write !== undefined) await store.putAccountState(name, decision.write);
    if (rows.length > 0 || meta === undefined)
      await updateMeta(store, name, 'account', meta, (current) =>
        countStates(current, rows, activity),
      );
    return report();
  }
  throw new StoreError(
    `dataset "${name}": other runs kept changing its account states; ${CHANGE_ATTEMPTS} attempts failed`,
  );
}

function emptyAccountMeta(name: string): DatasetMeta {
  return { name, kind: 'account', source: '', activity: '', count: 0, gaps: [], version: 0 };
}

/** The states from `lastChange` on as they are after `write` (a new state, or a later sighting). */
function withWrite(states: readonly AccountRow[], write: AccountRow | undefined): AccountRow[] {
  if (write === undefined) return [...states];
  return [...states.filter((r) => r.FirstSeen !== write.FirstSeen), write];
}

interface Decision {
  readonly write?: AccountRow;
  readonly changed: boolean;
}

/**
 * What the fetched state `seen` does to the history ending in `latest`: a new row when it differs
 * and is newer than every sighting of `latest`; a later LastSeen when it is the same state, seen
 * later; nothing for a fetch no newer than what is stored (it would rewrite history backwards).
 */
function decide(latest: AccountRow | undefined, seen: AccountRow | undefined): Decision {
  if (seen === undefined) return { changed: false };
  if (latest === undefined) return { write: seen, changed: true };
  if (seen.FirstSeen <= latest.LastSeen) return { changed: false };
  if (sameAccountState(latest, seen))
    return { write: { ...latest, LastSeen: seen.LastSeen }, changed: false };
  return { write: seen, changed: true };
}

/**
 * The metadata counting `rows` (every state from the stored `lastChange` on, this fetch's new one
 * included): those after the metadata's own `lastChange` are not counted yet. Computed from the
 * copy being replaced, so a concurrent run's count is never lost or doubled.
 */
function countStates(
  meta: DatasetMeta,
  rows: readonly AccountRow[],
  activity: ActivitySpec,
): DatasetMeta {
  const uncounted = rows.filter(
    (r) => meta.lastChange === undefined || r.FirstSeen > meta.lastChange,
  );
  const last = rows.at(-1);
  const lastChange =
    last !== undefined && (meta.lastChange === undefined || last.FirstSeen > meta.lastChange)
      ? last.FirstSeen
      : meta.lastChange;
  const times = extend(
    meta,
    [...rows.map((r) => r.FirstSeen), ...rows.map((r) => r.LastSeen)].sort(),
  );
  return {
    ...meta,
    source: activity.source,
    activity: activity.name,
    ...times,
    count: meta.count + uncounted.length,
    ...(lastChange === undefined ? {} : { lastChange }),
    ...(times.firstTime === undefined || times.lastTime === undefined
      ? {}
      : { coverage: { from: times.firstTime, to: times.lastTime } }),
  };
}

/**
 * Writes the fetched reputation hours that differ from the stored ones (a rate CloudWatch left
 * out keeps its stored value), conditional on the fetch time.
 */
async function writeReputation(
  store: DatasetStore,
  name: string,
  rows: readonly ReputationRow[],
  fetched: string,
): Promise<{ written: number; skipped: number }> {
  const first = rows[0];
  const last = rows.at(-1);
  if (first === undefined || last === undefined) return { written: 0, skipped: 0 };
  const stored = new Map(
    // CloudWatch times are whole seconds (isoUtc's `…:00Z` form): one second past the last one
    // ends the span after it (a millisecond would sort before it: '.' < 'Z').
    (
      await store.readReputation(name, { from: first.Timestamp, to: addMs(last.Timestamp, 1000) })
    ).map((r) => [Date.parse(r.Timestamp), r] as const),
  );
  const changed = rows.flatMap((row) => {
    const old = stored.get(Date.parse(row.Timestamp));
    const merged: ReputationRow = {
      Timestamp: old?.Timestamp ?? row.Timestamp,
      BounceRate: row.BounceRate ?? old?.BounceRate ?? null,
      ComplaintRate: row.ComplaintRate ?? old?.ComplaintRate ?? null,
    };
    return old !== undefined && sameReputation(old, merged) ? [] : [merged];
  });
  if (changed.length === 0) return { written: 0, skipped: 0 };
  const won = await store.writeReputation(name, changed, fetched);
  const written = won.filter(Boolean).length;
  return { written, skipped: won.length - written };
}
