import type { SecretsManagerGet } from './secrets.ts';

/**
 * Secrets Manager through Powertools Parameters (cached for its default 5 seconds unless `fresh`
 * is asked, after a rotation), loaded on first use so that configurations without secrets never
 * pay for its client at cold start.
 */
export const powertoolsSecretsManager: SecretsManagerGet = async (secretId, options) => {
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  const value = await getSecret(secretId, { forceFetch: options?.fresh === true });
  return typeof value === 'string' ? value : undefined;
};
