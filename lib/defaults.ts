import { Duration } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/**
 * The defaults only the constructs have: Lambda and EventBridge Scheduler settings that no
 * configuration file or CLI flag sets. Every default the configuration shares (schedule, alarm
 * thresholds, dataset names, limits) lives in `lambda/config/defaults.ts`; `@default` docs of
 * the construct props point to one of the two.
 */

/** Memory of the collector function in MB. */
export const DEFAULT_MEMORY_SIZE_MB = 256;
/** Two SES calls per activity, paced at one per second per account, plus retries and storage. */
export const DEFAULT_TIMEOUT = Duration.minutes(5);
export const DEFAULT_LOG_RETENTION = RetentionDays.THREE_MONTHS;
/** EventBridge Scheduler's own default is 185 retries, far more than an hourly run needs. */
export const DEFAULT_RETRY_ATTEMPTS = 3;
/**
 * The longest a scheduled invocation waits (in Scheduler or in Lambda's queue) unless the rate is
 * shorter: by then the next run fetches the same SES window.
 */
export const MAX_DEFAULT_EVENT_AGE = Duration.hours(1);

/** Memory of the read API's function in MB: a year of 15-minute points is about 35,000 items. */
export const DEFAULT_API_MEMORY_SIZE_MB = 512;
/**
 * Timeout of one read API request, below the HTTP API integration's own 29-second limit, so the
 * function answers (or fails as an error) before API Gateway gives up on it.
 */
export const DEFAULT_API_TIMEOUT = Duration.seconds(20);
/** Steady requests per second the read API's stage lets through (API Gateway answers 429 above). */
export const DEFAULT_API_THROTTLE_RATE_LIMIT = 10;
/** Requests the read API's stage lets through at once above the steady rate. */
export const DEFAULT_API_THROTTLE_BURST_LIMIT = 20;
/** How long a browser may cache the answer to a CORS preflight (only when CORS is configured). */
export const DEFAULT_API_CORS_MAX_AGE = Duration.hours(1);

/** The runtime and architecture of every function. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
export const LAMBDA_ARCHITECTURE = Architecture.ARM_64;
/**
 * esbuild settings of every function: one minified ES module with a source map (without the
 * sources), the SDK bundled at the versions of package-lock.json.
 */
export const LAMBDA_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner:
    "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  // Pinned SDK versions from package-lock.json, tree-shaken, rather than the runtime's copy.
  bundleAwsSDK: true,
  externalModules: [],
};
/** Lets stack traces name the TypeScript sources through the bundled source map. */
export const SOURCE_MAPS_ENVIRONMENT = { NODE_OPTIONS: '--enable-source-maps' } as const;
