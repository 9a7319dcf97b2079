/**
 * What the commands that read a store (query, datasets, summary, check) share. A module of its
 * own, so that each command keeps its own chunk in the build.
 */

import { NAME_PATTERN, NAME_RULE } from '../config/fields.ts';
import { UsageError } from '../core/errors.ts';
import type { DatasetStore } from '../core/store.ts';
import { EXIT_OK, type Io } from './io.ts';
import { openStore, type StoreFlagValues, shown, storeChoice } from './store-options.ts';

/** The one DATASET argument, checked against the name rule. */
export function onlyDataset(command: string, positionals: string[]): string {
  const [name, ...extra] = positionals;
  if (name === undefined || extra.length > 0)
    throw new UsageError(
      `expected exactly one DATASET, received ${positionals.length}${positionals.length > 0 ? ` (${positionals.map(shown).join(' ')})` : ''} (see ses-stats ${command} --help)`,
    );
  if (!NAME_PATTERN.test(name))
    throw new UsageError(
      `DATASET: received ${shown(name)}; expected a dataset name of ${NAME_RULE}`,
    );
  return name;
}

/** Prints a command's help; exit 0. */
export function help(io: Io, text: string): number {
  io.stdout.write(text);
  return EXIT_OK;
}

/**
 * Checks the store flags, then opens the store read-only (the last step: nothing is opened for
 * bad input, and reading creates nothing).
 */
export async function withStore(
  values: StoreFlagValues,
  io: Io,
  work: (store: DatasetStore) => Promise<void>,
): Promise<number> {
  const opened = await openStore(storeChoice(values, io), { readOnly: true, io });
  try {
    await work(opened.store);
    return EXIT_OK;
  } finally {
    await opened.close();
  }
}
