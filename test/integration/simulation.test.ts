import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretReader } from '../../lambda/adapters/secrets.ts';
import { SesStatisticsSource } from '../../lambda/adapters/ses-statistics-source.ts';
import { connectionSchema } from '../../lambda/config/schema.ts';
import { collectAll } from '../../lambda/core/activity.ts';
import type { StoreReport } from '../../lambda/core/results.ts';
import { ALL_TIME } from '../../lambda/core/time.ts';
import { freshStore } from '../support/dynamodb.ts';
import { FAKE_ACCESS_KEY_ID, type FakeSes, startFakeSes } from '../support/fake-ses.ts';
import { FakeClock } from '../support/fakes.ts';
import { SesWorld } from '../support/ses-world.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.parse('2026-09-01T00:13:00Z');
const EVERY = 4 * HOUR;
/** Collector down for 3 days (inside the SES window: nothing lost), then for 16.5 days (data lost). */
const OUTAGES = [
  [START + 10 * DAY, START + 13 * DAY],
  [START + 30 * DAY, START + 46.5 * DAY],
] as const;
const activity = {
  name: 'stats',
  source: 'sim',
  usageDataset: 'usage',
  statisticsDataset: 'stats',
};

let fake: FakeSes;
beforeAll(async () => {
  fake = await startFakeSes();
});
afterAll(() => fake.close());

describe('60 days of hourly-ish collection against a moving SES window', () => {
  it('keeps every bucket SES showed, records exactly the one lost span, and writes only changes', async () => {
    const world = new SesWorld();
    const { store } = await freshStore();
    const clock = new FakeClock(START);
    const source = new SesStatisticsSource(
      connectionSchema.parse({
        serviceUrl: fake.url,
        region: 'us-east-1',
        // The fake server runs at simulated time: the SDK corrects its clock from the first
        // RequestTimeTooSkewed (and every Date header) and retries.
        maxErrorRetry: 1,
        credentials: {
          type: 'keys',
          accessKeyId: FAKE_ACCESS_KEY_ID,
          secretAccessKey: { env: 'K' },
        },
      }),
      { secrets: createSecretReader({ env: { K: 'fakeSesSecretKey/0123456789abcdefghijklm' } }) },
    );
    const expected = new Map<string, number[]>();
    const fetches: number[] = [];
    const reports: StoreReport[] = [];
    const collectAt = async (now: number) => {
      clock.advance(now - clock.now().getTime());
      const view = world.view(now);
      fake.points = view;
      // Times come from the server: it answers at the simulated time.
      fake.clockSkewMs = now - Date.now();
      const outcome = await collectAll([{ activity, source }], {
        clock,
        store,
        onResult: (result) => {
          if (result.stored !== undefined) reports.push(result.stored);
        },
      });
      expect(outcome.failures).toEqual([]);
      expect(outcome.collected).toBe(1);
      // The contract: the latest value SES showed, except that the window's cut-off oldest bucket never replaces a stored one.
      for (const p of view) {
        const t = Date.parse(p.timestamp);
        if (!expected.has(p.timestamp) || !world.isEdge(t, now))
          expected.set(p.timestamp, [p.deliveryAttempts, p.bounces, p.complaints, p.rejects]);
      }
      fetches.push(now);
    };

    for (let now = START; now < START + 60 * DAY; now += EVERY) {
      if (OUTAGES.some(([from, to]) => now >= from && now < to)) continue;
      await collectAt(now);
    }
    const last = fetches.at(-1) ?? 0;
    const before = reports.length;
    await collectAt(last);

    const points = await store.readPoints('stats', ALL_TIME);
    expect(points.length).toBe(expected.size);
    expect(
      Object.fromEntries(
        points.map((p) => [p.Timestamp, [p.DeliveryAttempts, p.Bounces, p.Complaints, p.Rejects]]),
      ),
    ).toEqual(Object.fromEntries(expected));

    const settled = points.filter((p) =>
      fetches.some(
        (f) => f - Date.parse(p.Timestamp) >= 3 * HOUR && !world.isEdge(Date.parse(p.Timestamp), f),
      ),
    );
    expect(settled.length).toBeGreaterThan(0.9 * points.length);
    for (const p of settled) {
      const final = world.observed(Date.parse(p.Timestamp), Date.parse(p.Timestamp) + DAY);
      expect([p.Timestamp, p.DeliveryAttempts, p.Bounces, p.Complaints, p.Rejects]).toEqual([
        p.Timestamp,
        final.deliveryAttempts,
        final.bounces,
        final.complaints,
        final.rejects,
      ]);
    }

    const hourly = await store.readRollups('stats', '1h', ALL_TIME);
    const daily = await store.readRollups('stats', '1d', ALL_TIME);
    const sum = (rows: Array<{ DeliveryAttempts: number; Bounces: number }>) =>
      rows.reduce<[number, number]>(([a, b], r) => [a + r.DeliveryAttempts, b + r.Bounces], [0, 0]);
    expect(sum(hourly)).toEqual(sum(points));
    expect(sum(daily)).toEqual(sum(points));
    for (const h of hourly) {
      const inHour = points.filter(
        (p) =>
          p.Timestamp >= h.Timestamp && Date.parse(p.Timestamp) < Date.parse(h.Timestamp) + HOUR,
      );
      expect([h.Timestamp, h.Points, ...sum(inHour)]).toEqual([
        h.Timestamp,
        inHour.length,
        h.DeliveryAttempts,
        h.Bounces,
      ]);
    }

    const lastBefore = Math.max(...fetches.filter((f) => f < (OUTAGES[1]?.[0] ?? 0)));
    const firstAfter = Math.min(...fetches.filter((f) => f >= (OUTAGES[1]?.[1] ?? 0)));
    expect((await store.getMeta('stats'))?.gaps).toEqual([
      {
        from: new Date(lastBefore).toISOString(),
        to: new Date(firstAfter - 14 * DAY).toISOString(),
      },
    ]);

    expect(reports[before]).toEqual({
      pointsWritten: 0,
      pointsSkipped: 0,
      hourlyWritten: 0,
      dailyWritten: 0,
      newGaps: [],
      repaired: [],
    });
    const steady = reports.slice(-10, -1);
    for (const r of steady) expect(r.pointsWritten).toBeLessThan(40);
    source.destroy();
  }, 600_000);
});
