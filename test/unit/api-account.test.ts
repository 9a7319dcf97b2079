import { beforeAll, describe, expect, it } from 'vitest';
import { handleApiRequest } from '../../lambda/api/router.ts';
import { fillAccountHistory, REPUTATION } from '../support/account-history.ts';
import { fillHistory } from '../support/api-scenario.ts';
import { MemoryDatasetStore } from '../support/memory-store.ts';
import { conformance } from '../support/openapi.ts';

const store = new MemoryDatasetStore();
beforeAll(async () => {
  await fillHistory(store);
  await fillAccountHistory(store, 'account');
});

/** GETs `path?query` through the router and checks the answer against the OpenAPI document. */
async function get(path: string, query: ReadonlyArray<readonly [string, string]> = []) {
  const answer = await handleApiRequest(
    { method: 'GET', path, query },
    { store, now: () => new Date('2026-11-01T06:30:00Z') },
  );
  const problems = conformance(
    path,
    answer.status,
    answer.headers['content-type'] ?? '',
    answer.body,
  );
  expect(problems, problems.join('\n')).toEqual([]);
  return { ...answer, json: () => JSON.parse(answer.body) };
}

describe('read API over an account dataset', () => {
  it('lists the account dataset with its kind, state count and last change', async () => {
    const list = (await get('/datasets')).json();

    const account = list.datasets.find((d: { name: string }) => d.name === 'account');
    expect(account).toEqual({
      name: 'account',
      kind: 'account',
      source: 'S1',
      activity: 'a',
      firstTime: '2026-11-01T00:00:00.000Z',
      lastTime: '2026-11-01T06:00:00.000Z',
      count: 3,
      lastChange: '2026-11-01T05:00:00.000Z',
      coverage: { from: '2026-11-01T00:00:00.000Z', to: '2026-11-01T06:00:00.000Z' },
      gaps: [],
    });
    expect(list.datasets.find((d: { name: string }) => d.name === 'history').lastChange).toBeNull();
    expect((await get('/datasets/account')).json()).toEqual(account);
  });

  it('answers the states by default and the reputation hours with series=reputation', async () => {
    const states = (await get('/datasets/account/records')).json();
    const reputation = (
      await get('/datasets/account/records', [
        ['series', 'reputation'],
        ['from', '2026-11-01'],
      ])
    ).json();

    expect(states).toMatchObject({ kind: 'account', series: 'state', granularity: null });
    expect(states.rows.map((r: { EnforcementStatus: string }) => r.EnforcementStatus)).toEqual([
      'HEALTHY',
      'PROBATION',
      'HEALTHY',
    ]);
    expect(reputation.columns).toEqual(['Timestamp', 'BounceRate', 'ComplaintRate']);
    expect(reputation.rows).toEqual(REPUTATION.slice(2));
  });

  it('answers CSV with booleans as true/false and nulls as empty cells', async () => {
    const states = await get('/datasets/account/records', [['format', 'csv']]);
    const reputation = await get('/datasets/account/records', [
      ['format', 'csv'],
      ['series', 'reputation'],
      ['from', '2026-11-01T05:00:00Z'],
    ]);

    expect(states.body.split('\r\n')).toEqual([
      'FirstSeen,LastSeen,EnforcementStatus,SendingEnabled,ProductionAccessEnabled,ReviewStatus,ReviewCaseId,Max24HourSend,MaxSendRate',
      '2026-11-01T00:00:00.000Z,2026-11-01T02:00:00.000Z,HEALTHY,true,true,GRANTED,case-1,50000,14',
      '2026-11-01T03:00:00.000Z,2026-11-01T04:00:00.000Z,PROBATION,true,true,PENDING,case-2,50000,14',
      '2026-11-01T05:00:00.000Z,2026-11-01T06:00:00.000Z,HEALTHY,true,false,,,200,1',
      '',
    ]);
    expect(reputation.body).toBe(
      'Timestamp,BounceRate,ComplaintRate\r\n2026-11-01T05:00:00Z,0.04,\r\n',
    );
  });

  it('pages the states, the state in force at from first, and refuses a token of the other series', async () => {
    const range = [['from', '2026-11-01T01:00:00Z']] as const;
    const first = (await get('/datasets/account/records', [...range, ['limit', '1']])).json();
    const second = (
      await get('/datasets/account/records', [
        ...range,
        ['limit', '5'],
        ['nextToken', first.nextToken],
      ])
    ).json();
    const crossed = await get('/datasets/account/records', [
      ...range,
      ['series', 'reputation'],
      ['nextToken', first.nextToken],
    ]);

    expect(first.rows.map((r: { FirstSeen: string }) => r.FirstSeen)).toEqual([
      '2026-11-01T00:00:00.000Z',
    ]);
    expect(second.rows.map((r: { FirstSeen: string }) => r.FirstSeen)).toEqual([
      '2026-11-01T03:00:00.000Z',
      '2026-11-01T05:00:00.000Z',
    ]);
    expect(second.nextToken).toBeNull();
    expect(crossed.status).toBe(400);
    expect(crossed.json().error).toMatchObject({ code: 'InvalidNextToken' });
  });

  it.each([
    [
      '/datasets/account/records',
      [['granularity', '1h']],
      /^granularity: "account" is an account dataset/,
    ],
    [
      '/datasets/account/records',
      [['series', 'states']],
      /^series: received "states"; allowed: state, reputation/,
    ],
    [
      '/datasets/history/records',
      [['series', 'state']],
      /^series: "history" is a statistics dataset; series applies to account datasets only$/,
    ],
    [
      '/datasets/history-usage/records',
      [['series', 'reputation']],
      /^series: "history-usage" is a usage dataset/,
    ],
    [
      '/datasets/account/summary',
      [['series', 'state']],
      /^"series" is not a parameter of this route/,
    ],
  ] as const)('refuses GET %s?%j with a 400 naming the parameter', async (path, query, message) => {
    const answer = await get(path, query);

    expect(answer.status).toBe(400);
    expect(answer.json().error.message).toMatch(message);
  });

  it('summarises the account: latest state with its last change, changes and reputation, and a range outside', async () => {
    const all = (await get('/datasets/account/summary')).json();
    const outside = (
      await get('/datasets/account/summary', [
        ['since', '1d'],
        ['to', '2026-10-01'],
      ])
    ).json();

    expect(all).toMatchObject({
      kind: 'account',
      states: 3,
      stateChanges: 2,
      latest: {
        EnforcementStatus: 'HEALTHY',
        ProductionAccessEnabled: false,
        Sandbox: true,
        FirstSeen: '2026-11-01T05:00:00.000Z',
        LastSeen: '2026-11-01T06:00:00.000Z',
      },
      latestReputation: { BounceRate: 0.04, BounceRateAt: '2026-11-01T05:00:00Z' },
      peakReputation: { ComplaintRate: 0.004, ComplaintRateAt: '2026-11-01T03:00:00Z' },
    });
    expect(outside).toMatchObject({
      latest: null,
      stateChanges: null,
      coverage: { status: 'none' },
    });
  });
});
