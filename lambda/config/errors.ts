/** A configuration (file, flags or markup) that cannot be used; every line names the field. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? `${problems[0]}`
        : `invalid configuration:\n  ${problems.join('\n  ')}`,
    );
    this.name = 'ConfigError';
  }
}
