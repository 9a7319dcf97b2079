import { describe, expect, it } from 'vitest';
import {
  CONNECTION_PARAMETERS,
  FLAGGED,
  fieldAt,
  flaggedParameterAt,
  helpLines,
  PARAMETERS,
  PROXY_PARAMETERS,
  parameterValue,
  withField,
} from '../../lambda/config/parameters.ts';
import { connectionSchema } from '../../lambda/config/schema.ts';

describe('parameters', () => {
  it('gives every flagged parameter a help line of at most 100 columns naming its flag and attribute', () => {
    const help = helpLines();

    for (const p of FLAGGED) {
      const [name, value] = p.flag;
      const at = help.indexOf(`  --${name} ${value} `);
      expect(at, `--${name} has no help line`).toBeGreaterThanOrEqual(0);
      if (p.markup[0] !== undefined) expect(help.slice(at)).toContain(`${p.markup[0]}: `);
    }
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('has one record per flag, attribute and field', () => {
    const flags = FLAGGED.map((p) => p.flag[0]);
    const attributes = PARAMETERS.flatMap((p) => p.markup);
    const fields = PARAMETERS.map((p) => `${p.scope}:${p.field}`);

    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(attributes).size).toBe(attributes.length);
    expect(new Set(fields).size).toBe(fields.length);
  });

  it('puts every connection record in the connection schema', () => {
    const shape = Object.keys(connectionSchema.in.shape);
    const records = [
      ...Object.values(CONNECTION_PARAMETERS),
      ...Object.values(PROXY_PARAMETERS),
    ].map((p) => p.field.split('.')[0]);

    expect(shape).toEqual(expect.arrayContaining(records));
  });

  it('turns text into the value its kind stands for', () => {
    expect(parameterValue(CONNECTION_PARAMETERS.maxErrorRetry, '2')).toBe(2);
    expect(parameterValue(CONNECTION_PARAMETERS.timeoutSeconds, ' 0.5 ')).toBe(0.5);
    expect(parameterValue(CONNECTION_PARAMETERS.maxErrorRetry, 'two')).toBe('two');
    expect(parameterValue(CONNECTION_PARAMETERS.maxErrorRetry, '+3')).toBe('+3');
    expect(parameterValue(PROXY_PARAMETERS.passwordSecret, 'PROXY_PWD')).toEqual({
      env: 'PROXY_PWD',
    });
    expect(parameterValue(CONNECTION_PARAMETERS.region, '12')).toBe('12');
  });

  it('sets a dotted field on a copy, keeping the rest; a non-object step stays for the schema to report', () => {
    const base = { region: 'eu-west-1', proxy: { host: 'p', port: 8080 } };

    const changed = withField(base, 'proxy.port', 3128);
    const created = withField({}, 'proxy.passwordSecret', { env: 'V' });
    const kept = withField({ proxy: 'oops' }, 'proxy.passwordSecret', { env: 'V' });

    expect(changed).toEqual({ region: 'eu-west-1', proxy: { host: 'p', port: 3128 } });
    expect(base.proxy.port).toBe(8080);
    expect(created).toEqual({ proxy: { passwordSecret: { env: 'V' } } });
    expect(kept).toEqual({ proxy: 'oops' });
  });

  it('reads a dotted field, or nothing through a non-object', () => {
    expect(fieldAt({ proxy: { host: 'p' } }, 'proxy.host')).toBe('p');
    expect(fieldAt({ proxy: 'oops' }, 'proxy.host')).toBeUndefined();
    expect(fieldAt(undefined, 'region')).toBeUndefined();
  });

  it('finds the flagged record that holds a config path', () => {
    expect(flaggedParameterAt('proxy.passwordSecret.env')).toBe(PROXY_PARAMETERS.passwordSecret);
    expect(flaggedParameterAt('maxErrorRetry')).toBe(CONNECTION_PARAMETERS.maxErrorRetry);
    expect(flaggedParameterAt('proxy')).toBeUndefined();
    expect(flaggedParameterAt('credentials.accessKeyId')).toBeUndefined();
  });
});
