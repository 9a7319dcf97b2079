import { request } from 'node:http';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteDatasetStore } from '../../lambda/adapters/sqlite-dataset-store.ts';
import { type ApiAnswer, describeApiScenario, fillHistory } from '../support/api-scenario.ts';
import { collectArgs, FAKE_KEYS_ENV, runCli, scratchDir, startCli } from '../support/cli.ts';
import { type FakeSes, startFakeSes, twoWeekWindow } from '../support/fake-ses.ts';
import { conformance } from '../support/openapi.ts';

let fake: FakeSes;
let dir: string;
let serve: ReturnType<typeof startCli>;
let base: string;

/** A raw HTTP request (fetch would normalise the path and refuse a forged Host header). */
function send(path: string, options: { method?: string; host?: string } = {}): Promise<ApiAnswer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: { host: options.host ?? url.host },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, String(v)]),
            ),
            body,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  fake = await startFakeSes();
  fake.points = twoWeekWindow(new Date(), { seed: 11 });
  const cwd = scratchDir();
  dir = join(cwd, '.ses-stats');
  const collected = await runCli(collectArgs(fake.url), FAKE_KEYS_ENV, cwd);
  expect(collected.code, collected.stderr).toBe(0);
  const store = SqliteDatasetStore.open(join(dir, 'ses-stats.sqlite'));
  await fillHistory(store);
  store.close();
  serve = startCli(['serve', '--port', '0'], {}, cwd);
  base = await new Promise<string>((resolve, reject) => {
    let seen = '';
    serve.child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    serve.done.then((run) => reject(new Error(`serve exited ${run.code}: ${run.stderr}`)));
  });
}, 120_000);

afterAll(async () => {
  serve?.child.kill('SIGINT');
  await serve?.done;
  await fake?.close();
});

describeApiScenario(
  'ses-stats serve over HTTP',
  () =>
    (path, query = '', method = 'GET') =>
      send(query === '' ? path : `${path}?${query}`, { method }),
);

describe('ses-stats serve', () => {
  it('serves what collect stored, as in the Done-when curl: hourly CSV of statsData', async () => {
    const answer = await send('/datasets/statsData/records?granularity=1h&format=csv');
    expect(answer.status).toBe(200);
    const [header, ...lines] = answer.body.trimEnd().split('\r\n');
    expect(header).toBe('Timestamp,DeliveryAttempts,Bounces,Complaints,Rejects');
    const hours = new Set(fake.points.map((p) => p.timestamp.slice(0, 13)));
    expect(lines).toHaveLength(hours.size);
  });

  it('serves the dashboard page at / and /metrics in Prometheus text format', async () => {
    const page = await send('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toMatch(/<html/i);

    const metrics = await send('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheusTextFormat(metrics.body) as Array<{
      name: string;
      metrics: Array<{ labels?: Record<string, string>; value: string }>;
    }>;
    const gaps = families.find((f) => f.name === 'ses_stats_dataset_gaps');
    expect(gaps?.metrics.find((m) => m.labels?.dataset === 'history')?.value).toBe('1');
    const rows = families.find((f) => f.name === 'ses_stats_dataset_rows');
    expect(rows?.metrics.map((m) => m.labels?.dataset).sort()).toEqual([
      'accountData',
      'history',
      'history-usage',
      'statsData',
      'usageData',
    ]);
    // collect stored one account state: its gauges are there, and only for it.
    const healthy = families.find((f) => f.name === 'ses_stats_account_healthy');
    expect(healthy?.metrics.map((m) => m.labels?.dataset)).toEqual(['accountData']);
  });

  it('serves the account state collect stored, and its summary', async () => {
    const records = JSON.parse((await send('/datasets/accountData/records')).body);
    const summary = JSON.parse((await send('/datasets/accountData/summary')).body);

    expect(records).toMatchObject({ kind: 'account', series: 'state', granularity: null });
    expect(records.rows).toHaveLength(1);
    expect(summary).toMatchObject({ kind: 'account', states: 1, stateChanges: 0 });
    expect(summary.latest.FirstSeen).toBe(records.rows[0].FirstSeen);
  });

  it('refuses a request naming another host (DNS rebinding) and a path that escapes the routes', async () => {
    const rebound = await send('/datasets', { host: 'evil.example:8787' });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.code).toBe('ForbiddenHost');
    const sneaky = await send('//evil.example/datasets');
    expect(sneaky.status).toBe(404);
    expect(
      conformance(
        '//evil.example/datasets',
        sneaky.status,
        sneaky.headers['content-type'] ?? '',
        sneaky.body,
      ),
    ).toEqual([]);
  });

  it.each([
    [
      ['serve', '--port', 'http'],
      '--port: received "http"; expected a port number from 0 to 65535',
    ],
    [['serve', '--port', '70000'], '--port: received "70000"'],
    [['serve', 'extra'], 'takes no arguments'],
    [['serve', '--prot', '1'], 'did you mean --port?'],
  ])('refuses %j with exit 2 before opening anything', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
