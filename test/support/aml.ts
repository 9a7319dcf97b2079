import fc from 'fast-check';
import { nastyNumber, nastyString, PROTOTYPE_NAMES, secretKey, userInfoUrl } from './planted.ts';

/** Encrypted SECRETKEY / PROXYPWD values as the product writes them: never copied anywhere. */
export const ENCRYPTED = [
  'AM3i6P77pVEBOw=aME',
  'Zm9vYmFyLWVuY3J5cHRlZC1wcm94eS1wd2Q=',
  'enc-Pr0xy-pwd',
];

const name = fc.oneof(
  fc.constantFrom('usageData', 'statsData', 'S1', 'SESSession1'),
  fc.constantFrom(...PROTOTYPE_NAMES),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,8}$/),
);
const anyValue = fc.oneof(nastyString, nastyNumber.map(String));

/** Values by attribute: mostly plausible, some garbage; secrets only where the product puts them. */
const VALUES: Record<string, fc.Arbitrary<string>> = {
  ACTIVITY: fc.oneof(
    fc.constantFrom('email_statistics', 'create_session', 'EMAIL_STATISTICS', 'send_email'),
    anyValue,
  ),
  PROVIDER: fc.oneof(fc.constantFrom('session_based', 'host', ''), anyValue),
  SESSION: fc.oneof(name, anyValue),
  RESULTDATSET: fc.oneof(name, anyValue),
  RESULTDATASET: fc.oneof(name, anyValue),
  STATISTICSDATASET: fc.oneof(name, anyValue),
  ACCESSKEY: fc.oneof(fc.constant('AKIAJ25JAKOPAC7GSQ7A'), secretKey, anyValue),
  SECRETKEY: fc.constantFrom(...ENCRYPTED),
  PROXYPWD: fc.constantFrom(...ENCRYPTED),
  SERVICEURL: fc.oneof(
    fc.constantFrom('email.us-east-1.amazonaws.com', 'http://127.0.0.1:4566', ''),
    userInfoUrl,
    anyValue,
  ),
  REGION: fc.oneof(fc.constantFrom('us-east-1', 'eu-west-1'), anyValue),
  USERAGENT: fc.oneof(fc.constant('AutoMate'), anyValue),
  MAXERRORRETRY: fc.oneof(fc.integer({ min: -2, max: 12 }).map(String), anyValue),
  PROXYHOST: fc.oneof(fc.constantFrom('proxy.corp', '127.0.0.1'), userInfoUrl, anyValue),
  PROXYPORT: fc.oneof(fc.integer({ min: -1, max: 70000 }).map(String), anyValue),
  PROXYUSER: fc.oneof(fc.constant('ops'), anyValue),
  SIGNMETHOD: fc.oneof(fc.constantFrom('HmacSHA256', 'HmacSHA1'), anyValue),
  SIGNVERSION: fc.oneof(fc.constantFrom('4', '2', 'v3'), anyValue),
};
const KNOWN = Object.keys(VALUES);

const attributeName = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...KNOWN) },
  { weight: 1, arbitrary: fc.constantFrom(...KNOWN).map((n) => n.toLowerCase()) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z_][\w:.-]{0,8}$/) },
);

/** Escapes a value for its quotes, mostly; sometimes leaves it raw to break the tag. */
const attribute = attributeName.chain((attr) =>
  fc
    .tuple(VALUES[attr.toUpperCase()] ?? anyValue, fc.constantFrom('"', "'"), fc.nat(9))
    .map(([value, quote, raw]) => {
      const escaped =
        raw === 0
          ? value
          : value
              .replaceAll('&', '&amp;')
              .replaceAll('<', '&lt;')
              .replaceAll(quote, quote === '"' ? '&quot;' : '&apos;');
      return `${attr}=${quote}${escaped}${quote}`;
    }),
);

const tag = fc
  .tuple(
    fc.constantFrom('AMAWSSES', 'amawsses', 'AMAWSSES', 'AMAWSSES'),
    fc.array(attribute, { maxLength: 9 }),
    fc.constantFrom(' />', '/>', '>', '', ' x />'),
    fc.constantFrom(' ', '\n  ', '\t'),
  )
  .map(
    ([tagName, attributes, close, space]) =>
      `<${tagName}${attributes.map((a) => `${space}${a}`).join('')}${close}`,
  );

const piece = fc.oneof(
  { weight: 6, arbitrary: tag },
  { weight: 1, arbitrary: tag.map((t) => `<!-- ${t} -->`) },
  { weight: 1, arbitrary: tag.map((t) => `<![CDATA[${t}]]>`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '<!--',
      '<![CDATA[',
      '<?xml version="1.0"?>',
      '</AMAWSSES>',
      '<AMTASK>',
      '&amp;',
      '&#1114112;',
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
);

const noisy = fc.array(piece, { maxLength: 6 }).chain((pieces) =>
  fc
    .array(fc.constantFrom('\n', '\r\n', ' ', ''), {
      minLength: pieces.length,
      maxLength: pieces.length,
    })
    .map((seps) => pieces.map((p, i) => `${p}${seps[i]}`).join('')),
);

/** Mostly valid steps: each email_statistics step has its own datasets; 0-2 attributes drawn at random. */
const plausible = fc
  .array(
    fc.tuple(
      fc.constantFrom('email_statistics', 'email_statistics', 'create_session'),
      fc.constantFrom('', ' PROVIDER="session_based" SESSION="S1"', ' SESSION="S2"'),
      fc.array(attribute, { maxLength: 2 }),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((steps) =>
    steps
      .map(([activity, session, extra], i) => {
        const datasets =
          activity === 'email_statistics'
            ? ` RESULTDATSET="usage${i}" STATISTICSDATASET="stats${i}"`
            : ' SESSION="S1" REGION="eu-west-1"';
        return `<AMAWSSES ACTIVITY="${activity}"${activity === 'create_session' ? '' : session}${datasets}${extra.map((a) => ` ${a}`).join('')} />`;
      })
      .join('\n'),
  );

/** A task file: AMAWSSES steps with plausible and broken attributes, comments and garbage. */
export const markup = fc.oneof(plausible, noisy);
