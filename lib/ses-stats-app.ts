import type { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from './deployment-config.ts';
import { addNagPacks } from './nag-packs.ts';
import { READER_STACK_ID, ReaderStack } from './reader-stack.ts';
import { SesStatsStack } from './ses-stats-stack.ts';
import { environmentFromContext } from './stack-environment.ts';

/** The stack id: `cdk deploy SesStats`. */
export const STACK_ID = 'SesStats';

/** The context key that adds the member-account reader stack: `-c reader=true`. */
export const READER_CONTEXT_KEY = 'reader';

/**
 * What `cdk synth` builds: the config from `-c config=PATH` (or the default), the environment
 * from `-c account=… -c region=…` (or none), the stack, and the cdk-nag packs. With
 * `-c reader=true` the app also holds the member-account reader stack (`SesStatsReader`); it is
 * left out otherwise, so that `cdk deploy` without a stack name still finds exactly one stack.
 * Throws ConfigError naming the field when the configuration cannot be used.
 */
export function defineSesStatsApp(app: App): SesStatsStack {
  const stack = new SesStatsStack(app, STACK_ID, {
    config: loadConfig(app),
    env: environmentFromContext(app),
  });
  if (readerRequested(app)) new ReaderStack(app, READER_STACK_ID);
  addNagPacks(app);
  return stack;
}

/** `-c reader=true` arrives as the string "true"; cdk.json may hold a boolean. */
function readerRequested(app: App): boolean {
  const value: unknown = app.node.tryGetContext(READER_CONTEXT_KEY);
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new ConfigError([
    {
      path: `-c ${READER_CONTEXT_KEY}`,
      message: `received ${JSON.stringify(value)}; expected true (add the ${READER_STACK_ID} stack) or false`,
    },
  ]);
}
