import type { App } from 'aws-cdk-lib';
import { loadConfig } from './deployment-config.ts';
import { addNagPacks } from './nag-packs.ts';
import { SesStatsStack } from './ses-stats-stack.ts';
import { environmentFromContext } from './stack-environment.ts';

/** The stack id: `cdk deploy SesStats`. */
export const STACK_ID = 'SesStats';

/**
 * What `cdk synth` builds: the config from `-c config=PATH` (or the default), the environment
 * from `-c account=… -c region=…` (or none), the stack, and the cdk-nag packs.
 * Throws ConfigError naming the field when the configuration cannot be used.
 */
export function defineSesStatsApp(app: App): SesStatsStack {
  const stack = new SesStatsStack(app, STACK_ID, {
    config: loadConfig(app),
    env: environmentFromContext(app),
  });
  addNagPacks(app);
  return stack;
}
