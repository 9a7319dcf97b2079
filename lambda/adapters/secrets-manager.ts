import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerGet } from './secrets.ts';

/** Secrets Manager through Powertools Parameters (cached for its default 5 seconds). */
export const powertoolsSecretsManager: SecretsManagerGet = async (secretId) => {
  const value = await getSecret(secretId);
  return typeof value === 'string' ? value : undefined;
};
