import { describe, expect, it } from 'vitest';
import { resolveServiceUrl } from '../../lambda/config/service-url.ts';

describe('resolveServiceUrl', () => {
  it.each([
    ['email.us-east-1.amazonaws.com', 'https://email.us-east-1.amazonaws.com', 'us-east-1'],
    [
      'https://email.eu-west-1.amazonaws.com ',
      'https://email.eu-west-1.amazonaws.com',
      'eu-west-1',
    ],
    [
      '  email.ap-southeast-2.amazonaws.com/\n',
      'https://email.ap-southeast-2.amazonaws.com',
      'ap-southeast-2',
    ],
    [
      'email-fips.us-gov-west-1.amazonaws.com',
      'https://email-fips.us-gov-west-1.amazonaws.com',
      'us-gov-west-1',
    ],
    ['email.eu-central-1.api.aws', 'https://email.eu-central-1.api.aws', 'eu-central-1'],
    ['HTTPS://EMAIL.US-WEST-2.AMAZONAWS.COM', 'https://email.us-west-2.amazonaws.com', 'us-west-2'],
  ])('infers the region from %j', (url, endpoint, region) => {
    expect(resolveServiceUrl(url, undefined)).toEqual({ endpoint, region });
  });

  it('accepts a matching explicit region', () => {
    expect(resolveServiceUrl('email.us-east-1.amazonaws.com', 'us-east-1')).toEqual({
      endpoint: 'https://email.us-east-1.amazonaws.com',
      region: 'us-east-1',
    });
  });

  it('keeps a local endpoint with its port when a region is given', () => {
    expect(resolveServiceUrl('http://127.0.0.1:4566', 'us-east-1')).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
    });
  });

  it('returns only the region when no URL is given', () => {
    expect(resolveServiceUrl(undefined, 'eu-west-1')).toEqual({ region: 'eu-west-1' });
    expect(resolveServiceUrl(undefined, undefined)).toEqual({});
  });

  it.each([
    ['http://127.0.0.1:4566', undefined, /cannot be inferred; set "region"/],
    ['email.us-east-1.amazonaws.com', 'eu-west-1', /in region us-east-1 but region is "eu-west-1"/],
    ['   ', undefined, /must not be empty/],
    ['ftp://email.us-east-1.amazonaws.com', undefined, /scheme "ftp" is not allowed/],
    [
      'https://user:pw@email.us-east-1.amazonaws.com',
      undefined,
      /must not contain a user or password/,
    ],
    [
      'https://email.us-east-1.amazonaws.com/v2/stats',
      undefined,
      /without a path, query or fragment/,
    ],
    ['http://email.us-east-1.amazonaws.com', undefined, /accept only https/],
    ['email.notaregion.amazonaws.com', undefined, /is not an AWS region/],
    ['https://exa mple.com', 'us-east-1', /not a valid URL/],
  ])('rejects %j (region %j)', (url, region, message) => {
    expect(() => resolveServiceUrl(url, region)).toThrow(message);
  });

  it.each([
    ['https://ops:c0rp-Pr0xy-pass@email.us-east-1.amazonaws.com', undefined],
    ['ops:c0rp-Pr0xy-pass@127.0.0.1:4566', 'us-east-1'],
    ['http://ops:c0rp-Pr0xy-pass@email.us-east-1.amazonaws.com/path', undefined],
  ])('rejects user info in %j without echoing the password', (url, region) => {
    expect(() => resolveServiceUrl(url, region)).toThrow('must not contain a user or password');
    expect(() => resolveServiceUrl(url, region)).not.toThrow(/c0rp|ops/);
  });
});
