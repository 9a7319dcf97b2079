import { Duration } from 'aws-cdk-lib';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS } from '../lambda/constants.ts';

/**
 * Powertools Metrics adds this dimension, set to the service name (`POWERTOOLS_SERVICE_NAME`,
 * which the collector sets to `METRICS.SERVICE`), to every metric it emits. A CloudWatch metric
 * is identified by all of its dimensions, so alarms and graphs must name it too.
 */
export const POWERTOOLS_SERVICE_DIMENSION = 'service';

/** The four counts the collector emits per statistics dataset (sums over the last 24 hours). */
export const COUNT_METRICS = [
  METRICS.DELIVERY_ATTEMPTS,
  METRICS.BOUNCES,
  METRICS.COMPLAINTS,
  METRICS.REJECTS,
] as const;

/** One of the collector's EMF metrics for one dataset. */
export function datasetMetric(
  metricName: string,
  dataset: string,
  options: MetricOptions = {},
): Metric {
  return new Metric({
    namespace: METRICS.NAMESPACE,
    metricName,
    dimensionsMap: {
      [POWERTOOLS_SERVICE_DIMENSION]: METRICS.SERVICE,
      [METRICS.DATASET_DIMENSION]: dataset,
    },
    period: Duration.hours(1),
    ...options,
  });
}

/** One of the collector's EMF metrics about all datasets at once (only the service dimension). */
export function fleetMetric(metricName: string, options: MetricOptions = {}): Metric {
  return new Metric({
    namespace: METRICS.NAMESPACE,
    metricName,
    dimensionsMap: { [POWERTOOLS_SERVICE_DIMENSION]: METRICS.SERVICE },
    period: Duration.hours(1),
    ...options,
  });
}
