import { describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { runCli, runMain, scratchDir } from '../support/cli.ts';

/** Exit 2 with exactly one line on stderr and nothing on stdout. */
function expectOneLineRefusal(run: { code: number | null; stdout: string; stderr: string }) {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr.split('\n')).toHaveLength(2);
  expect(run.stderr.endsWith('\n')).toBe(true);
}

describe('ses-stats', () => {
  it.each([['--version'], ['-V']])(
    'prints its name and package.json version for %s',
    async (flag) => {
      const run = await runCli([flag]);

      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`ses-stats ${pkg.version}\n`);
      expect(run.stderr).toBe('');
    },
  );

  it('prints the usage, every command listed, for --help and for help', async () => {
    const [flag, word] = await Promise.all([runCli(['--help']), runCli(['help'])]);

    expect(flag.code).toBe(0);
    expect(flag.stdout).toMatch(/^Usage: ses-stats <command>/);
    for (const command of ['collect', 'query', 'datasets', 'summary', 'import-aml'])
      expect(flag.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    expect(word).toEqual(flag);
  });

  it('prints the usage on stderr and exits 2 when given no command', async () => {
    const run = await runCli([]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Usage: ses-stats <command>/);
  });

  it.each(['collect', 'query', 'import-aml'])(
    'prints the same text for help COMMAND as for COMMAND --help: %s',
    async (command) => {
      const [help, flag] = await Promise.all([
        runCli(['help', command]),
        runCli([command, '--help']),
      ]);

      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: ses-stats ${command}`);
      expect(help).toEqual(flag);
    },
  );

  it('suggests the near command for a mistyped one, exit 2 on one line', async () => {
    const run = await runCli(['colect']);

    expectOneLineRefusal(run);
    expect(run.stderr).toBe('ses-stats: unknown command "colect"; did you mean "collect"?\n');
  });

  it('rejects help for an unknown command, suggesting a near one or listing them', async () => {
    const [near, far] = await Promise.all([runCli(['help', 'qeury']), runCli(['help', 'nosuch'])]);

    expectOneLineRefusal(near);
    expect(near.stderr).toBe('ses-stats: unknown command "qeury"; did you mean "query"?\n');
    expectOneLineRefusal(far);
    expect(far.stderr).toMatch(/^ses-stats: unknown command "nosuch"; commands: collect, query, /);
    for (const command of ['datasets', 'summary', 'import-aml'])
      expect(far.stderr).toContain(command);
    expect(far.stderr).not.toContain('did you mean');
  });

  it("suggests the near flag among the command's own for a mistyped one, exit 2 on one line", async () => {
    const run = await runCli(['query', 'statsData', '--granulartiy', '1h']);

    expectOneLineRefusal(run);
    expect(run.stderr).toBe(
      "ses-stats query: Unknown option '--granulartiy'; did you mean --granularity? (see ses-stats query --help)\n",
    );
  });

  it('masks a secret typed where a command or a flag goes', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

    const runs = await Promise.all([runCli([secret]), runCli(['datasets', `--${secret}`])]);

    for (const run of runs) {
      expectOneLineRefusal(run);
      expect(run.stderr).not.toContain(secret);
    }
  });
});

describe('did you mean', () => {
  const cwd = scratchDir();
  const refusal = async (argv: string[]) => (await runMain(argv, { cwd })).stderr;

  it.each([
    [['summry'], 'did you mean "summary"?'],
    [['import'], 'did you mean "import-aml"?'], // the only command it begins
    [['--verison'], 'unknown option "--verison"; did you mean "--version"?'],
    [['query', 'd', '--tzz', 'UTC'], 'did you mean --tz?'],
    [['query', 'd', '--frmo', 'x'], 'did you mean --from?'],
    [['collect', '--max-eror-retry', '1'], 'did you mean --max-error-retry?'],
    [['query', 'd', '--gran', '1h'], 'did you mean --granularity?'], // a unique prefix
  ])('suggests for %j', async (argv, suggestion) => {
    expect(await refusal(argv)).toContain(suggestion);
  });

  it.each([
    [['zzz']], // nothing near
    [['c']], // the start of more than one command
    [['query', 'd', '--bogus']],
    [['query', 'd', '--tx', 'x']], // --to and --tz are equally near
    [['query', 'd', '--table-regionnnn', 'x']], // three edits away
  ])('suggests nothing for %j', async (argv) => {
    const stderr = await refusal(argv);

    expect(stderr).toMatch(/unknown|Unknown/);
    expect(stderr).not.toContain('did you mean');
  });
});
