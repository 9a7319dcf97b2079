#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../lib/deployment-config.ts';
import { defineSesStatsApp } from '../lib/ses-stats-app.ts';

const app = new App();
try {
  defineSesStatsApp(app);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A config problem is the user's to fix: say what is wrong, without a stack trace.
  console.error(`ses-stats: ${error.message}`);
  process.exit(1);
}
