import { describe, expect, it } from 'vitest';
import { importAml } from '../../lambda/config/import-aml.ts';
import { parseConfig } from '../../lambda/config/schema.ts';
import { ConfigError } from '../../lambda/core/errors.ts';

const SEED =
  '<AMAWSSES ACTIVITY="email_statistics" ACCESSKEY="AKIAJ25JAKOPAC7GSQ7A" SECRETKEY="AM3i6P77pVEBOw=aME" RESULTDATSET="usageData" STATISTICSDATASET="sendStats" />';
const SECRET = 'AM3i6P77pVEBOw=aME';
const V4_WHY =
  'SES accepts only Signature Version 4 (HMAC-SHA256) since 2020-10-01 and rejects Signature Version 2 and 3';

function importError(markup: string): ConfigError {
  try {
    importAml(markup);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected importAml to throw a ConfigError');
}

describe('importAml', () => {
  it('imports the seed example as an inline keys connection with a secret reference', () => {
    const result = importAml(SEED);

    expect(result.config).toEqual({
      activities: [
        {
          connection: {
            credentials: {
              type: 'keys',
              accessKeyId: 'AKIAJ25JAKOPAC7GSQ7A',
              secretAccessKey: { secretId: 'ses-stats/sendStats/secret-access-key' },
            },
          },
          usageDataset: 'usageData',
          statisticsDataset: 'sendStats',
        },
      ],
    });
    expect(result.notes).toEqual([
      'line 1: SECRETKEY is encrypted in the markup and is never copied; create the Secrets Manager secret "ses-stats/sendStats/secret-access-key" holding the secret access key (for CLI use, replace secretAccessKey with {"env": "VAR"})',
    ]);
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(parseConfig(result.config).activities[0]?.name).toBe('sendStats');
  });

  it('accepts the RESULTDATASET spelling, and both spellings when they agree', () => {
    const markup = [
      '<AMAWSSES ACTIVITY="email_statistics" RESULTDATASET="usageA" STATISTICSDATASET="statsA" />',
      '<AMAWSSES ACTIVITY="email_statistics" RESULTDATSET="usageB" RESULTDATASET="usageB" STATISTICSDATASET="statsB" />',
    ].join('\n');

    const { config, notes } = importAml(markup);

    expect(config.activities.map((a) => a.usageDataset)).toEqual(['usageA', 'usageB']);
    expect(config.activities[0]).toEqual({
      connection: {},
      usageDataset: 'usageA',
      statisticsDataset: 'statsA',
    });
    expect(notes).toEqual([]);
  });

  it('shares one create_session session between two session_based steps', () => {
    const markup = `<AMTASK>
<AMVARIABLE NAME="x" VALUE="1" />
<AMAWSSES ACTIVITY="email_statistics" PROVIDER="session_based" SESSION="prod" RESULTDATSET="u1" STATISTICSDATASET="s1" />
<AMAWSSES ACTIVITY="create_session" SESSION="prod" ACCESSKEY="AKIAJ25JAKOPAC7GSQ7A" SECRETKEY="${SECRET}" USERAGENT="AutoMate" />
<AMAWSSES ACTIVITY="email_statistics" SESSION="prod" RESULTDATSET="u2" STATISTICSDATASET="s2" />
<AMAWSSES ACTIVITY="end_session" SESSION="prod" />
</AMTASK>`;

    const { config, notes } = importAml(markup);

    expect(config).toEqual({
      sessions: {
        prod: {
          credentials: {
            type: 'keys',
            accessKeyId: 'AKIAJ25JAKOPAC7GSQ7A',
            secretAccessKey: { secretId: 'ses-stats/prod/secret-access-key' },
          },
          userAgent: 'AutoMate',
        },
      },
      activities: [
        { session: 'prod', usageDataset: 'u1', statisticsDataset: 's1' },
        { session: 'prod', usageDataset: 'u2', statisticsDataset: 's2' },
      ],
    });
    expect(notes).toEqual([
      expect.stringMatching(
        /^line 4: SECRETKEY is encrypted .*"ses-stats\/prod\/secret-access-key"/,
      ),
      'line 6: skipped ACTIVITY "end_session": ses-stats imports only create_session and email_statistics steps',
    ]);
    expect(JSON.stringify(notes)).not.toContain(SECRET);
  });

  it('adds a default session when a session_based step has no create_session', () => {
    const markup =
      '<AMAWSSES ACTIVITY="email_statistics" PROVIDER="session_based" RESULTDATSET="u" STATISTICSDATASET="s" />';

    const { config, notes } = importAml(markup);

    expect(config).toEqual({
      sessions: { SESSession1: {} },
      activities: [{ session: 'SESSession1', usageDataset: 'u', statisticsDataset: 's' }],
    });
    expect(notes).toEqual([
      'line 1: session "SESSession1" has no create_session step; added it with default settings (the default AWS credential chain and region)',
    ]);
  });

  it('maps every connection attribute and never copies the proxy password', () => {
    const markup = `<AMAWSSES ACTIVITY="email_statistics" USERAGENT="AutoMate" MAXERRORRETRY="3"
      SERVICEURL="https://email.us-west-2.amazonaws.com " REGION="us-west-2"
      PROXYHOST="proxy.example.com" PROXYPORT="8080" PROXYUSER="ops" PROXYPWD="${SECRET}"
      SIGNMETHOD="HmacSHA256" SIGNVERSION="4" RESULTDATSET="u" STATISTICSDATASET="s" />`;

    const { config, notes } = importAml(markup);

    expect(config.activities[0]?.connection).toEqual({
      userAgent: 'AutoMate',
      maxErrorRetry: 3,
      serviceUrl: 'https://email.us-west-2.amazonaws.com ',
      region: 'us-west-2',
      proxy: {
        host: 'proxy.example.com',
        port: 8080,
        user: 'ops',
        passwordSecret: { secretId: 'ses-stats/s/proxy-password' },
      },
      signatureMethod: 'HmacSHA256',
      signatureVersion: '4',
    });
    expect(notes).toEqual([
      'line 1: PROXYPWD is encrypted in the markup and is never copied; create the Secrets Manager secret "ses-stats/s/proxy-password" holding the proxy password (for CLI use, replace proxy.passwordSecret with {"env": "VAR"})',
    ]);
    // Written in the schema's order, the order docs/configuration.md lists the fields in.
    expect(Object.keys(config.activities[0]?.connection ?? {})).toEqual([
      'region',
      'serviceUrl',
      'userAgent',
      'maxErrorRetry',
      'proxy',
      'signatureMethod',
      'signatureVersion',
    ]);
    expect(Object.keys(config.activities[0]?.connection?.proxy ?? {})).toEqual([
      'host',
      'port',
      'user',
      'passwordSecret',
    ]);
    expect(JSON.stringify({ config, notes })).not.toContain(SECRET);
    expect(parseConfig(config).activities[0]?.connection.serviceUrl).toBe(
      'https://email.us-west-2.amazonaws.com',
    );
  });

  it('upgrades SIGNVERSION 2 and HmacSHA1 to Signature Version 4 with a warning', () => {
    const markup =
      '<AMAWSSES ACTIVITY="email_statistics" SIGNVERSION="2" SIGNMETHOD="HmacSHA1" RESULTDATSET="u" STATISTICSDATASET="s" />';

    const { config, notes } = importAml(markup);

    expect(config.activities[0]?.connection).toEqual({
      signatureVersion: '4',
      signatureMethod: 'HmacSHA256',
    });
    expect(notes).toEqual([
      `line 1: warning: SIGNMETHOD "HmacSHA1" changed to "HmacSHA256" because ${V4_WHY}`,
      `line 1: warning: SIGNVERSION "2" changed to "4" because ${V4_WHY}`,
    ]);
  });

  it('skips other activities and notes unknown attributes with their lines', () => {
    const markup = `<!-- old, since 2 > 1: <AMAWSSES ACTIVITY="email_statistics" RESULTDATSET="no" STATISTICSDATASET="no" /> -->
<AMAWSSES ACTIVITY="send_email" TO="a@example.com" />
<AMAWSSES ACTIVITY="email_statistics" RESULTDATSET="u" STATISTICSDATASET="s" RESULTVARIABLE="r" TIMEOUT="60" ONERROR="continue" />`;

    const { config, notes } = importAml(markup);

    expect(config.activities).toHaveLength(1);
    expect(notes).toEqual([
      'line 2: skipped ACTIVITY "send_email": ses-stats imports only create_session and email_statistics steps',
      'line 3: ignored RESULTVARIABLE, TIMEOUT, ONERROR: not used by ses-stats in a Host email_statistics step',
    ]);
  });

  it('reads entities, single quotes, any case and tags that span lines', () => {
    const markup = `text <amVariable name='a' value="1 &lt; 2" />
<amawsses activity='Email_Statistics'
  resultdatset='usage&#45;&#x41;' StatisticsDataset="stats&#46;daily"
  useragent="a&amp;b &lt;c&gt; &quot;q&quot; it&apos;s &unknown;"></amawsses>`;

    const { config } = importAml(markup);

    expect(config.activities[0]).toMatchObject({
      usageDataset: 'usage-A',
      statisticsDataset: 'stats.daily',
      connection: { userAgent: 'a&b <c> "q" it\'s &unknown;' },
    });
  });

  it('treats empty attributes as absent, as the product writes unset fields', () => {
    const markup =
      '<AMAWSSES ACTIVITY="email_statistics" SESSION="" ACCESSKEY="" PROXYHOST="" PROXYPORT="" MAXERRORRETRY=" " RESULTDATSET="u" STATISTICSDATASET="s" />';

    const { config, notes } = importAml(markup);

    expect(config).toEqual({
      activities: [{ connection: {}, usageDataset: 'u', statisticsDataset: 's' }],
    });
    expect(notes).toEqual([]);
  });

  it('imports an identical repeated step once', () => {
    const markup = `${SEED}\n${SEED}`;

    const { config, notes } = importAml(markup);

    expect(config.activities).toHaveLength(1);
    expect(notes).toEqual([
      expect.stringMatching(/^line 1: SECRETKEY is encrypted/),
      'line 2: same email_statistics step as line 1; imported once',
    ]);
  });

  it('rejects the markup when there is no email_statistics step', () => {
    const markup = '<AMAWSSES ACTIVITY="create_session" /><!-- nothing else -->';

    const error = importError(markup);

    expect(error.lines).toEqual([
      'no <AMAWSSES ACTIVITY="email_statistics"> step found; there is nothing to import',
    ]);
  });

  it('rejects a step when a dataset attribute is missing', () => {
    const markup = '\n\n<AMAWSSES ACTIVITY="email_statistics" />';

    const error = importError(markup);

    expect(error.lines).toEqual([
      'line 3: RESULTDATSET is missing; the email_statistics step needs a usage dataset name (RESULTDATSET or RESULTDATASET)',
      'line 3: STATISTICSDATASET is missing; the email_statistics step needs a statistics dataset name',
    ]);
  });

  it('rejects a step when the two usage dataset spellings differ', () => {
    const markup =
      '<AMAWSSES ACTIVITY="email_statistics" RESULTDATSET="a" RESULTDATASET="b" STATISTICSDATASET="s" />';

    const error = importError(markup);

    expect(error.lines).toEqual([
      'line 1: RESULTDATSET is "a" but RESULTDATASET is "b"; give one usage dataset name',
    ]);
  });

  it('rejects a step when a number attribute is not a whole number in range', () => {
    const markup = `<AMAWSSES ACTIVITY="email_statistics" MAXERRORRETRY="three" PROXYHOST="p" PROXYPORT="70000" RESULTDATSET="u" STATISTICSDATASET="s" />`;

    const error = importError(markup);

    expect(error.lines).toEqual([
      'line 1: MAXERRORRETRY is "three"; expected an integer from 0 to 10',
      'line 1: PROXYPORT is "70000"; expected an integer port from 1 to 65535',
    ]);
  });

  it('rejects a step when SECRETKEY is given without ACCESSKEY, without quoting the secret', () => {
    const markup = `<AMAWSSES ACTIVITY="email_statistics" SECRETKEY="${SECRET}" RESULTDATSET="u" STATISTICSDATASET="s" />`;

    const error = importError(markup);

    expect(error.lines).toEqual([
      'line 1: SECRETKEY is given without ACCESSKEY; add the access key id, or drop SECRETKEY to use the default AWS credential chain',
    ]);
    expect(error.message).not.toContain(SECRET);
  });

  it('rejects proxy attributes when PROXYHOST, PROXYPORT or PROXYUSER is missing', () => {
    const markup = `<AMAWSSES ACTIVITY="email_statistics" PROXYPORT="8080" RESULTDATSET="u1" STATISTICSDATASET="s1" />
<AMAWSSES ACTIVITY="email_statistics" PROXYHOST="p" PROXYPWD="${SECRET}" RESULTDATSET="u2" STATISTICSDATASET="s2" />`;

    const error = importError(markup);

    expect(error.lines).toEqual([
      'line 1: PROXYHOST is missing; PROXYPORT cannot be used without a proxy host',
      'line 2: PROXYPORT is missing; a proxy needs a port from 1 to 65535',
      'line 2: PROXYPWD is given without PROXYUSER; add the proxy user name',
    ]);
    expect(error.message).not.toContain(SECRET);
  });

  it('rejects steps when they reuse a dataset name or a session name with other settings', () => {
    const markup = `<AMAWSSES ACTIVITY="create_session" SESSION="s" USERAGENT="a" />
<AMAWSSES ACTIVITY="create_session" SESSION="s" USERAGENT="b" />
<AMAWSSES ACTIVITY="email_statistics" RESULTDATSET="u" STATISTICSDATASET="x" />
<AMAWSSES ACTIVITY="email_statistics" SESSION="s" RESULTDATSET="u" STATISTICSDATASET="y" />`;

    const error = importError(markup);

    expect(error.lines).toEqual([
      'line 2: SESSION "s" is created again with other settings (first on line 1); give each create_session step its own SESSION name',
      'line 4: RESULTDATSET is "u", a dataset name already used on line 3; every dataset needs its own name',
    ]);
  });

  it('rejects a tag when its attributes cannot be read, without quoting them', () => {
    const markup = `<AMAWSSES ACTIVITY="email_statistics" SECRETKEY=${SECRET} />`;

    const error = importError(markup);

    expect(error.lines).toEqual([
      'line 1: the AMAWSSES tag has text that is not NAME="value" or NAME=\'value\' after ACTIVITY',
    ]);
    expect(error.message).not.toContain(SECRET);
  });

  it('rejects a tag when an attribute is repeated', () => {
    const markup =
      '<AMAWSSES ACTIVITY="email_statistics" RESULTDATSET="u" resultdatset="v" STATISTICSDATASET="s" />';

    const error = importError(markup);

    expect(error.lines).toEqual([
      'line 1: RESULTDATSET is given twice; an attribute may appear once',
    ]);
  });

  it('rejects the markup when a comment is never closed', () => {
    const markup = `${SEED}\n<!-- ${SEED}`;

    const error = importError(markup);

    expect(error.lines).toEqual(['line 2: <!-- is never closed with -->']);
  });

  it('rejects the config with the schema error when a non-AWS SERVICEURL has no REGION', () => {
    const markup =
      '<AMAWSSES ACTIVITY="email_statistics" SERVICEURL="http://localhost:4579" RESULTDATSET="u" STATISTICSDATASET="s" />';

    const error = importError(markup);

    expect(error.lines).toEqual([
      expect.stringMatching(/^activities\[0\]\.connection\.serviceUrl: .*set "region" as well$/),
    ]);
  });

  const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const step = (attributes: string) =>
    `<AMAWSSES ACTIVITY="email_statistics" RESULTDATSET="u" STATISTICSDATASET="s" ${attributes} />`;

  it.each([
    [
      `ACCESSKEY="${secretKey}" SECRETKEY="${SECRET}"`,
      'activities[0].connection.credentials.accessKeyId: received "wJal..." (40 characters, the rest hidden); expected an access key id (16-128 upper-case letters and digits)',
    ],
    [
      `MAXERRORRETRY="${secretKey}"`,
      'line 1: MAXERRORRETRY is "wJal...(40 characters hidden)"; expected an integer from 0 to 10',
    ],
    [
      'SERVICEURL="https://ops:c0rp-Pr0xy-pass@email.us-east-1.amazonaws.com"',
      'activities[0].connection.serviceUrl: received "https://***@email.us-east-1.amazonaws.com"; must not contain a user or password',
    ],
  ])('rejects %s naming the field without echoing the secret', (attributes, problem) => {
    const error = importError(step(attributes));

    expect(error.lines).toEqual([problem]);
    expect(error.message).not.toContain(secretKey.slice(4));
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('c0rp-Pr0xy-pass');
  });

  it.each([['constructor'], ['toString'], ['hasOwnProperty']])(
    'imports a SESSION named %j, an Object.prototype name, as a session of its own',
    (session) => {
      const { config } = importAml(
        `<AMAWSSES ACTIVITY="create_session" SESSION="${session}" REGION="eu-west-1" />\n${step(`PROVIDER="session_based" SESSION="${session}"`)}`,
      );

      expect(parseConfig(config).activities[0]).toMatchObject({
        source: session,
        connection: { region: 'eu-west-1' },
      });
    },
  );

  it('rejects a SESSION named "__proto__" naming the field', () => {
    const error = importError(step('PROVIDER="session_based" SESSION="__proto__"'));

    expect(error.lines).toEqual([
      expect.stringMatching(/^sessions\.__proto__: expected a session name of 1-64 characters/),
    ]);
  });
});
