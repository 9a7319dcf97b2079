import { describe, expect, it } from 'vitest';
import openapi from '../../lambda/api/openapi.json' with { type: 'json' };
import { READ_API_PATHS } from '../../lambda/constants.ts';
import type { StatisticsRow } from '../../lambda/core/datasets.ts';
import { storeActivityResult } from '../../lambda/core/persist.ts';
import type { DatasetStore } from '../../lambda/core/store.ts';
import { conformance } from './openapi.ts';
import { series } from './rows.ts';

/** One answer of the API, however it was reached (HTTP to `serve`, or the Lambda handler). */
export interface ApiAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Sends GET `path` (already encoded) with `query`; `method` for the refusals. */
export type ApiCall = (path: string, query?: string, method?: string) => Promise<ApiAnswer>;

const DAY_MS = 86_400_000;

/** Points every 15 minutes from 10 October to 20 November 2026, each with different counts. */
export const HISTORY_ROWS = series('2026-10-10T00:07:00Z', '2026-11-20T00:00:00Z');

/**
 * Stores dataset `history` (and its usage dataset `history-usage`) as collections would have: a
 * fetch on 24 October, none between, then fetches from 11 November on: SES's window had moved on,
 * so 24 October 00:07 to 28 October 00:07 is a gap.
 */
export async function fillHistory(store: DatasetStore): Promise<void> {
  const fetches = ['2026-10-24T00:07:00Z', '2026-11-11T00:07:00Z', '2026-11-20T00:00:00Z'];
  for (const [i, at] of fetches.entries()) {
    const fetchedAt = new Date(at);
    await storeActivityResult(
      store,
      {
        activity: {
          name: 'history',
          source: 'SESSession1',
          usageDataset: 'history-usage',
          statisticsDataset: 'history',
        },
        usage: {
          name: 'history-usage',
          rows: [
            {
              CollectedAt: fetchedAt.toISOString(),
              Max24HourSend: 50_000,
              MaxSendRate: 14,
              SentLast24Hours: 1000 * (i + 1),
            },
          ],
        },
        statistics: {
          name: 'history',
          rows: HISTORY_ROWS.filter((r) => {
            const t = Date.parse(r.Timestamp);
            return t < fetchedAt.getTime() && t >= fetchedAt.getTime() - 14 * DAY_MS;
          }),
        },
      },
      { fetchedAt },
    );
  }
}

/** Every route and refusal of the read API, each answer checked against the OpenAPI document. */
export function describeApiScenario(label: string, api: () => ApiCall): void {
  describe(`read API (${label})`, () => {
    /** GETs (or sends `method`) and checks the answer against the OpenAPI document. */
    const get = async (path: string, query = '', method = 'GET') => {
      const answer = await api()(path, query, method);
      const type = answer.headers['content-type'] ?? '';
      const problems = conformance(path, answer.status, type, answer.body, method);
      expect(problems, problems.join('\n')).toEqual([]);
      expect(answer.status).toBeLessThan(500);
      return { ...answer, json: () => JSON.parse(answer.body) };
    };

    /** Every row of a records query, following nextToken, and the pages. */
    const allRows = async (path: string, query: string) => {
      const pages: Array<{ rows: unknown[]; nextToken: string | null }> = [];
      let token: string | null = null;
      do {
        const suffix: string = token === null ? '' : `&nextToken=${encodeURIComponent(token)}`;
        const answer = await get(path, `${query}${suffix}`);
        expect(answer.status).toBe(200);
        const page = answer.json();
        pages.push(page);
        token = page.nextToken;
      } while (token !== null && pages.length < 500);
      return { rows: pages.flatMap((p) => p.rows), pages };
    };

    it('lists the datasets with coverage and gaps, and describes one', async () => {
      const list = await get('/datasets');
      const history = list.json().datasets.find((d: { name: string }) => d.name === 'history');
      expect(history).toMatchObject({
        kind: 'statistics',
        source: 'SESSession1',
        gaps: [{ from: '2026-10-24T00:07:00.000Z', to: '2026-10-28T00:07:00.000Z' }],
      });
      expect((await get('/datasets/history')).json()).toEqual(history);
      expect((await get('/openapi.json')).json()).toEqual(openapi);
      // The routes the stack deploys are the routes the document describes.
      expect(Object.keys(openapi.paths).sort()).toEqual([...READ_API_PATHS].sort());
    });

    it('pages add up exactly to the whole, in 15m, 1h and in New York days across the DST change', async () => {
      for (const query of [
        'granularity=15m&from=2026-11-12&to=2026-11-14',
        'granularity=1h&from=2026-11-01',
        'granularity=1d&tz=America/New_York&from=2026-10-29&to=2026-11-05',
      ]) {
        const whole = await get('/datasets/history/records', query);
        expect(whole.json().nextToken).toBeNull();
        const paged = await allRows('/datasets/history/records', `${query}&limit=7`);
        expect(paged.pages.length).toBeGreaterThan(1);
        expect(paged.rows).toEqual(whole.json().rows);
      }
      const days = (
        await get(
          '/datasets/history/records',
          'granularity=1d&tz=America/New_York&from=2026-10-31&to=2026-11-03',
        )
      ).json();
      expect(days.from).toBe('2026-10-31T04:00:00Z');
      expect(days.rows.map((r: StatisticsRow) => r.Timestamp)).toEqual([
        '2026-10-31T00:00:00-04:00',
        '2026-11-01T00:00:00-04:00',
        '2026-11-02T00:00:00-05:00',
      ]);
      // The 25-hour day: 100 quarter hours.
      const sum = HISTORY_ROWS.filter(
        (r) => r.Timestamp >= '2026-11-01T04:00:00Z' && r.Timestamp < '2026-11-02T05:00:00Z',
      ).reduce((t, r) => t + r.DeliveryAttempts, 0);
      expect(days.rows[1].DeliveryAttempts).toBe(sum);
    });

    it('reads a date without an offset in tz (Asia/Kolkata) and chooses the granularity when none is given', async () => {
      const page = (
        await get('/datasets/history/records', 'from=2026-11-15&to=2026-11-16&tz=Asia/Kolkata')
      ).json();
      expect(page).toMatchObject({
        from: '2026-11-14T18:30:00Z',
        to: '2026-11-15T18:30:00Z',
        granularity: '15m',
        tz: 'Asia/Kolkata',
      });
      expect(page.rows).toHaveLength(96);
      expect((await get('/datasets/history/records', '')).json().granularity).toBe('1h');
    });

    it('answers plain CSV: one header row, the same rows, the next token in a header', async () => {
      const json = (
        await get('/datasets/history/records', 'granularity=1h&from=2026-11-18')
      ).json();
      const csv = await get(
        '/datasets/history/records',
        'granularity=1h&from=2026-11-18&format=csv',
      );
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      const [header, ...lines] = csv.body.trimEnd().split('\r\n');
      expect(header).toBe('Timestamp,DeliveryAttempts,Bounces,Complaints,Rejects');
      expect(lines).toEqual(
        json.rows.map((r: StatisticsRow) =>
          [r.Timestamp, r.DeliveryAttempts, r.Bounces, r.Complaints, r.Rejects].join(','),
        ),
      );
      const first = await get('/datasets/history/records', 'granularity=15m&format=csv&limit=3');
      expect(first.body.trimEnd().split('\r\n')).toHaveLength(4);
      expect(first.headers['x-next-token']).toMatch(/\./);
    });

    it('refuses an altered token and a token of another query with 400', async () => {
      const first = (await get('/datasets/history/records', 'granularity=15m&limit=5')).json();
      const token: string = first.nextToken;
      const altered = `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`;
      for (const [path, query] of [
        [
          '/datasets/history/records',
          `granularity=15m&limit=5&nextToken=${encodeURIComponent(altered)}`,
        ],
        [
          '/datasets/history/records',
          `granularity=1h&limit=5&nextToken=${encodeURIComponent(token)}`,
        ],
        ['/datasets/history-usage/records', `limit=5&nextToken=${encodeURIComponent(token)}`],
      ] as const) {
        const answer = await get(path, query);
        expect(answer.status).toBe(400);
        expect(answer.json().error.code).toBe('InvalidNextToken');
        expect(answer.json().error.message).toMatch(/^nextToken: /);
      }
    });

    it('summarises with the covered part of the range, and says when a range lies outside it', async () => {
      const inside = (
        await get('/datasets/history/summary', 'from=2026-10-20&to=2026-11-01')
      ).json();
      // Stored throughout, but with a gap: partly known.
      expect(inside.coverage).toMatchObject({
        status: 'partial',
        covered: { from: '2026-10-20T00:00:00Z', to: '2026-11-01T00:00:00Z' },
        gaps: [{ from: '2026-10-24T00:07:00.000Z', to: '2026-10-28T00:07:00.000Z' }],
      });
      const clean = (
        await get('/datasets/history/summary', 'from=2026-11-12&to=2026-11-14')
      ).json();
      expect(clean.coverage).toEqual({
        status: 'full',
        covered: { from: '2026-11-12T00:00:00Z', to: '2026-11-14T00:00:00Z' },
        gaps: [],
      });
      const lost = (await get('/datasets/history/summary', 'from=2026-10-25&to=2026-10-27')).json();
      expect(lost).toMatchObject({ DeliveryAttempts: null, coverage: { status: 'none' } });
      const outside = (
        await get('/datasets/history/summary', 'from=2025-01-01&to=2025-02-01')
      ).json();
      expect(outside).toMatchObject({
        DeliveryAttempts: null,
        coverage: { status: 'none', covered: null },
      });
      expect(outside.coverage.note).toMatch(/^the range lies outside the stored history/);
      const usage = (await get('/datasets/history-usage/summary', '')).json();
      expect(usage).toMatchObject({
        kind: 'usage',
        snapshots: 3,
        latest: { SentLast24Hours: 3000, Utilisation: 0.06 },
      });
    });

    it.each([
      ['/datasets/nope', '', 404, 'UnknownDataset'],
      ['/datasets/nope/records', '', 404, 'UnknownDataset'],
      ['/nowhere', '', 404, 'NotFound'],
      ['/datasets/history/records/extra', '', 404, 'NotFound'],
      ['/datasets/', '', 404, 'NotFound'],
      ['/datasets/bad%20name', '', 400, 'InvalidParameter'],
      ['/datasets/%E0%A4%A', '', 400, 'InvalidPath'],
      ['/datasets', 'limit=5', 400, 'UnknownParameter'],
      ['/datasets/history/records', 'granularity=5m', 400, 'InvalidParameter'],
      ['/datasets/history/records', 'limit=0', 400, 'InvalidParameter'],
      ['/datasets/history/records', 'limit=1001', 400, 'InvalidParameter'],
      ['/datasets/history/records', 'format=xml', 400, 'InvalidParameter'],
      ['/datasets/history/records', 'from=2026-11-01&from=2026-11-02', 400, 'InvalidParameter'],
      ['/datasets/history/records', 'since=7d&from=2026-11-01', 400, 'InvalidParameter'],
      ['/datasets/history/records', 'tz=Mars/Olympus', 400, 'InvalidParameter'],
      ['/datasets/history/summary', 'granularity=1h', 400, 'UnknownParameter'],
      ['/datasets/history-usage/records', 'granularity=1h', 400, 'InvalidParameter'],
    ])('GET %s?%s → %i %s', async (path, query, status, code) => {
      const answer = await get(path, query);
      expect(answer.status).toBe(status);
      expect(answer.json().error.code).toBe(code);
      expect(answer.json().error.message.length).toBeGreaterThan(10);
    });

    it('names the parameter and what is allowed', async () => {
      const answer = (await get('/datasets/history/records', 'granularity=5m')).json();
      expect(answer.error.message).toBe('granularity: received "5m"; allowed: 15m, 1h, 1d');
      const unknown = (await get('/datasets/history/summary', 'granularity=1h')).json();
      expect(unknown.error.message).toBe(
        '"granularity" is not a parameter of this route; allowed: from, to, since, tz',
      );
    });

    it.each([
      ['POST', '/datasets'],
      ['PUT', '/datasets/history'],
      ['DELETE', '/datasets/history/records'],
      ['PATCH', '/datasets/history/summary'],
      ['POST', '/openapi.json'],
    ])('refuses %s %s with 405, as the OpenAPI document says', async (method, path) => {
      const answer = await get(path, '', method);
      expect(answer.status).toBe(405);
      expect(answer.json().error.code).toBe('MethodNotAllowed');
      expect(answer.json().error.message).toBe(`method ${method} is not allowed; use GET`);
    });
  });
}
