import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambda/config/schema.ts';
import { runCli, scratchDir } from '../support/cli.ts';

const SEED =
  '<AMAWSSES ACTIVITY="email_statistics" ACCESSKEY="AKIAJ25JAKOPAC7GSQ7A" SECRETKEY="AM3i6P77pVEBOw=aME" RESULTDATSET="usageData" STATISTICSDATASET="sendStats" />';

function taskFile(markup: string): string {
  const dir = scratchDir();
  writeFileSync(join(dir, 'task.aml'), markup);
  return dir;
}

describe('ses-stats import-aml', () => {
  it('turns the seed example into a valid config without copying the encrypted secret', async () => {
    const dir = taskFile(SEED);

    const run = await runCli(['import-aml', 'task.aml'], {}, dir);

    expect(run.code).toBe(0);
    const config = JSON.parse(run.stdout);
    expect(parseConfig(config).activities).toEqual([
      expect.objectContaining({
        usageDataset: 'usageData',
        statisticsDataset: 'sendStats',
        source: 'inline',
      }),
    ]);
    expect(config.activities[0].connection.credentials).toEqual({
      type: 'keys',
      accessKeyId: 'AKIAJ25JAKOPAC7GSQ7A',
      secretAccessKey: { secretId: 'ses-stats/sendStats/secret-access-key' },
    });
    expect(run.stderr).toMatch(
      /^note: line 1: SECRETKEY is encrypted in the markup and is never copied/m,
    );
    expect(`${run.stdout}${run.stderr}`).not.toContain('AM3i6P77pVEBOw=aME');
    // The original activity keeps no account state: none is added, and the note says how to.
    expect(config.activities[0]).not.toHaveProperty('accountDataset');
    expect(run.stderr).toContain(
      `note: no account dataset added: the original activity has none; to keep the SES account state (GetAccount) and AWS's reputation rates, add "accountDataset": "<name>" to an activity (such as "accountData"; one name per activity)\n`,
    );
  });

  it('writes the config to --out and upgrades Signature Version 2 with a warning', async () => {
    const dir =
      taskFile(`<AMAWSSES ACTIVITY="create_session" SESSION="S1" SERVICEURL="https://email.us-west-2.amazonaws.com " SIGNVERSION="2" SIGNMETHOD="HmacSHA1" />
<AMAWSSES ACTIVITY="email_statistics" PROVIDER="session_based" SESSION="S1" RESULTDATASET="u" STATISTICSDATASET="s" />`);

    const run = await runCli(['import-aml', 'task.aml', '--out', 'config.json'], {}, dir);

    expect(run.code).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.sessions.S1).toMatchObject({
      signatureVersion: '4',
      signatureMethod: 'HmacSHA256',
    });
    expect(run.stderr).toContain(
      'note: line 1: warning: SIGNVERSION "2" changed to "4" because SES accepts only Signature Version 4 (HMAC-SHA256) since 2020-10-01',
    );
    expect(run.stderr).toContain('wrote config.json');
    expect(config.activities[0]).not.toHaveProperty('accountDataset');
    expect(run.stderr).toMatch(/^note: no account dataset added: .*"accountDataset": "<name>"/m);
  });

  it('exits 2 naming the line of a broken step', async () => {
    const dir = taskFile('<AMAWSSES ACTIVITY="email_statistics" STATISTICSDATASET="s" />');

    const run = await runCli(['import-aml', 'task.aml'], {}, dir);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('line 1: RESULTDATSET is missing');
  });

  it('exits 2 for a missing file or a missing argument', async () => {
    const missing = await runCli(['import-aml', 'nope.aml']);
    const none = await runCli(['import-aml']);

    expect([missing.code, none.code]).toEqual([2, 2]);
    expect(missing.stderr).toContain(
      'ses-stats import-aml: FILE nope.aml: cannot read the file (not found)\n',
    );
    expect(none.stderr).toContain('expected exactly one FILE');
  });

  it('prints help', async () => {
    const run = await runCli(['import-aml', '--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: ses-stats import-aml FILE');
  });
});

describe('ses-stats', () => {
  it('exits 2 naming an unknown command', async () => {
    const run = await runCli(['colect']);

    expect(run.code).toBe(2);
    expect(run.stderr).toBe('ses-stats: unknown command "colect"; did you mean "collect"?\n');
  });

  it('prints usage for --help', async () => {
    const run = await runCli(['--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: ses-stats <command>');
  });
});
