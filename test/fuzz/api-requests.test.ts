import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { handleApiRequest, RECORD_PARAMETERS } from '../../lambda/api/router.ts';
import { fillAccountHistory } from '../support/account-history.ts';
import { fillHistory } from '../support/api-scenario.ts';
import { MemoryDatasetStore } from '../support/memory-store.ts';
import { conformance } from '../support/openapi.ts';

const store = new MemoryDatasetStore();
beforeAll(async () => {
  await fillHistory(store);
  await fillAccountHistory(store, 'history-account');
});

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('%', '%E0%A4%A', '..', '.', '%2F', ' ', '\u0000', '#', '?', 'null', '-1', '1e3'),
);
const segment = fc.oneof(
  fc.constantFrom(
    'datasets',
    'history',
    'history-usage',
    'history-account',
    'records',
    'summary',
    'openapi.json',
    'nope',
    '',
  ),
  text,
);
const path = fc
  .array(segment, { maxLength: 5 })
  .map((parts) => `/${parts.map((p) => p.replace(/[/?#]/g, encodeURIComponent)).join('/')}`);
const value = fc.oneof(
  text,
  fc.constantFrom(
    '2026-11-01',
    '2026-11-01T10:00',
    '2026-11-01T10:00:00+05:30',
    '2026-02-30',
    '0000-01-01',
    '9999-12-31T23:59:59Z',
    '7d',
    '0d',
    '999999w',
    '15m',
    '1h',
    '1d',
    'America/New_York',
    'Asia/Kolkata',
    'Mars/Olympus',
    'csv',
    'json',
    '0',
    '1',
    '1000',
    '1001',
    'eyJxIjoiIn0.AAAA',
    'state',
    'reputation',
  ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const key = fc.oneof(fc.constantFrom(...RECORD_PARAMETERS), text);
const query = fc.array(fc.tuple(key, value), { maxLength: 5 });
const method = fc.oneof(
  fc.constant('GET'),
  fc.constantFrom('POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'get'),
);

describe('read API under arbitrary requests', () => {
  it('never answers 5xx; every refusal is {"error": {"code", "message"}} and every answer matches the OpenAPI document', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, query, async (m, p, q) => {
        const answer = await handleApiRequest(
          { method: m, path: p, query: q },
          { store, now: () => new Date('2026-11-20T00:00:00Z') },
        );
        expect(answer.status).toBeLessThan(500);
        const body = answer.headers['content-type']?.startsWith('application/json')
          ? JSON.parse(answer.body)
          : undefined;
        if (answer.status >= 400) {
          expect(Object.keys(body)).toEqual(['error']);
          expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
          expect(typeof body.error.code).toBe('string');
          expect(body.error.message.length).toBeGreaterThan(5);
        }
        expect(
          conformance(p, answer.status, answer.headers['content-type'] ?? '', answer.body, m),
        ).toEqual([]);
      }),
      { numRuns: 600 },
    );
  }, 120_000);

  it('never answers 5xx to a valid route with arbitrary parameters, including real tokens used elsewhere', async () => {
    const first = await handleApiRequest(
      { method: 'GET', path: '/datasets/history/records', query: [['limit', '3']] },
      { store },
    );
    const token = JSON.parse(first.body).nextToken as string;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/datasets/history/records',
          '/datasets/history-usage/records',
          '/datasets/history/summary',
          '/datasets/history-usage/summary',
          '/datasets/history-account/records',
          '/datasets/history-account/summary',
        ),
        fc.array(fc.tuple(key, fc.oneof(value, fc.constant(token))), { maxLength: 4 }),
        async (p, q) => {
          const answer = await handleApiRequest({ method: 'GET', path: p, query: q }, { store });
          expect(answer.status).toBeLessThan(500);
          expect(
            conformance(p, answer.status, answer.headers['content-type'] ?? '', answer.body),
          ).toEqual([]);
        },
      ),
      { numRuns: 400 },
    );
  }, 120_000);

  it('never answers 5xx to a well-signed token carrying anything (the signing key is public)', async () => {
    const sign = (text: string) => {
      const body = Buffer.from(text).toString('base64url');
      const mac = createHmac('sha256', 'ses-stats/page-token/v1').update(body).digest();
      return `${body}.${mac.subarray(0, 16).toString('base64url')}`;
    };
    const first = await handleApiRequest(
      {
        method: 'GET',
        path: '/datasets/history/records',
        query: [
          ['granularity', '1h'],
          ['limit', '3'],
        ],
      },
      { store },
    );
    const real = JSON.parse(
      Buffer.from(
        String(JSON.parse(first.body).nextToken).split('.')[0] ?? '',
        'base64url',
      ).toString(),
    ) as Record<string, unknown>;
    const field = fc.oneof(
      value,
      fc.integer(),
      fc.constant(null),
      fc.constant(real.c),
      fc.constant(real.f),
    );
    const payload = fc.oneof(
      fc.record({
        q: fc.constant(real.q),
        c: field,
        f: field,
        t: field,
        g: fc.oneof(field, fc.constantFrom('15m', '1h', '1d')),
      }),
      fc.jsonValue().map((v) => v as unknown),
      text,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/datasets/history/records',
          '/datasets/history-usage/records',
          '/datasets/history-account/records',
        ),
        fc.constantFrom<Array<[string, string]>>(
          [],
          [['series', 'reputation']],
          [['granularity', '1h']],
          [['tz', 'Asia/Kolkata']],
          [
            ['granularity', '1d'],
            ['tz', 'America/New_York'],
          ],
        ),
        payload,
        async (p, q, body) => {
          const token = sign(typeof body === 'string' ? body : JSON.stringify(body));
          const answer = await handleApiRequest(
            { method: 'GET', path: p, query: [...q, ['limit', '3'], ['nextToken', token]] },
            { store },
          );
          expect(answer.status).toBeLessThan(500);
          expect(
            conformance(p, answer.status, answer.headers['content-type'] ?? '', answer.body),
          ).toEqual([]);
        },
      ),
      { numRuns: 400 },
    );
  }, 120_000);
});
