import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_KEYS_ENV, runCli, scratchDir } from '../support/cli.ts';
import { type FakeSes, startFakeSes, twoWeekWindow } from '../support/fake-ses.ts';

const ACCOUNTS = ['111122223333', '222233334444'];
const REGIONS = ['us-east-1', 'eu-west-1'];
const EXTERNAL_ID = 'ses-stats-org-test';

/**
 * One fake SES per region behind one URL: each request goes to the fake of the region its
 * signature is scoped to (SigV4's credential scope), as AWS's regional endpoints would take it.
 * The Host header is passed on unchanged, so the fake verifies the signature the SDK made.
 */
let fakes: Record<string, FakeSes>;
let router: Server;
let url: string;

beforeAll(async () => {
  fakes = Object.fromEntries(
    await Promise.all(REGIONS.map(async (region) => [region, await startFakeSes({ region })])),
  );
  router = createServer((req, res) => {
    const region = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(
      req.headers.authorization ?? '',
    )?.[1];
    const fake = region === undefined ? undefined : fakes[region];
    if (fake === undefined) {
      res.writeHead(400).end(`no fake SES for region ${region}`);
      return;
    }
    const upstream = request(
      `${fake.url}${req.url ?? '/'}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(router.address() as AddressInfo).port}`;
});
afterEach(() => {
  for (const fake of Object.values(fakes)) fake.reset();
});
afterAll(async () => {
  await new Promise((resolve) => router.close(resolve));
  await Promise.all(Object.values(fakes).map((fake) => fake.close()));
});

function writeConfig(dir: string, activities: unknown[]): void {
  const org = {
    serviceUrl: url,
    regions: REGIONS,
    accounts: ACCOUNTS.map((id) => ({ id })),
    externalId: EXTERNAL_ID,
    maxErrorRetry: 0,
  };
  writeFileSync(join(dir, 'org.json'), JSON.stringify({ sessions: { org }, activities }));
}

describe('ses-stats collect --config with a session of accounts × regions', () => {
  it('refuses colliding names with exit code 2, naming the template and both expansions', async () => {
    const dir = scratchDir();
    writeConfig(dir, [{ session: 'org', statisticsDataset: '{region}-stats' }]);

    const run = await runCli(['collect', '--no-store', '--config', 'org.json'], FAKE_KEYS_ENV, dir);

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'activities[0].statisticsDataset: "{region}-stats" expands to "us-east-1-stats" for account 222233334444 and region us-east-1, already used by account 111122223333 in region us-east-1 (activities[0].statisticsDataset); add {account} to the template',
    );
    expect(run.stderr).toContain(
      'activities[0].statisticsDataset: "{region}-stats" expands to "eu-west-1-stats" for account 222233334444 and region eu-west-1',
    );
    const calls = Object.values(fakes).flatMap((f) => [...f.requests, ...f.assumeRoleCalls]);
    expect(calls).toEqual([]);
  });

  it('collects and stores four statistics datasets, assuming each account’s role with the external id', async () => {
    const dir = scratchDir();
    for (const fake of Object.values(fakes)) fake.points = twoWeekWindow(new Date());
    writeConfig(dir, [{ session: 'org' }]);

    const run = await runCli(
      ['collect', '--config', 'org.json', '--format', 'json'],
      { ...FAKE_KEYS_ENV, AWS_ENDPOINT_URL_STS: url },
      dir,
    );

    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const expected = ACCOUNTS.flatMap((account) =>
      REGIONS.map((region) => `${account}-${region}-stats`),
    );
    const printed = JSON.parse(run.stdout) as Record<string, unknown[]>;
    for (const name of expected)
      expect(printed[name]).toHaveLength(fakes['us-east-1']?.points.length ?? -1);

    const roleArns = ACCOUNTS.map((account) => `arn:aws:iam::${account}:role/SesStatsReader`);
    for (const region of REGIONS) {
      const calls = fakes[region]?.assumeRoleCalls ?? [];
      expect(calls.map((c) => c.roleArn).sort()).toEqual(roleArns);
      expect(calls.map((c) => c.externalId)).toEqual([EXTERNAL_ID, EXTERNAL_ID]);
      expect(calls.every((c) => c.issuedAccessKeyId !== undefined)).toBe(true);
      // Each account's SES calls in this region were signed with the key its role was issued.
      const sesCalls = fakes[region]?.requests.filter((r) => r.action !== 'AssumeRole') ?? [];
      expect(sesCalls).toHaveLength(4);
      const keys = new Set(sesCalls.map((r) => r.accessKeyId));
      expect(keys).toEqual(new Set(calls.map((c) => c.issuedAccessKeyId)));
    }

    const listed = await runCli(['datasets', '--format', 'json'], {}, dir);
    expect(listed.code).toBe(0);
    const { datasets } = JSON.parse(listed.stdout) as {
      datasets: Array<{ name: string; kind: string; source: string }>;
    };
    const statistics = datasets
      .filter((d) => d.kind === 'statistics')
      .map((d) => [d.name, d.source])
      .sort();
    expect(statistics).toEqual(
      ACCOUNTS.flatMap((account) =>
        REGIONS.map((region) => [`${account}-${region}-stats`, `org/${account}/${region}`]),
      ).sort(),
    );
  });

  it('takes a connection flag on such a session and keeps the name templates', async () => {
    const dir = scratchDir();
    for (const fake of Object.values(fakes)) fake.points = twoWeekWindow(new Date());
    writeConfig(dir, [{ session: 'org' }]);

    const run = await runCli(
      [
        'collect',
        '--no-store',
        '--config',
        'org.json',
        '--session',
        'org',
        '--max-error-retry',
        '1',
      ],
      { ...FAKE_KEYS_ENV, AWS_ENDPOINT_URL_STS: url },
      dir,
    );

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('222233334444-eu-west-1-stats');
    expect(run.stdout).not.toContain('statsData');
  });
});
