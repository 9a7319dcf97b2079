/** The npm package ships no types; what the tests use of it. */
declare module 'parse-prometheus-text-format' {
  interface ParsedMetric {
    /** As written: a number, NaN or ±Inf. */
    readonly value: string;
    readonly labels?: Record<string, string>;
    readonly timestamp_ms?: string;
  }
  interface ParsedFamily {
    readonly name: string;
    readonly help: string;
    /** Upper case: GAUGE, COUNTER, UNTYPED, … */
    readonly type: string;
    readonly metrics: ParsedMetric[];
  }
  function parsePrometheusTextFormat(text: string): ParsedFamily[];
  export = parsePrometheusTextFormat;
}
