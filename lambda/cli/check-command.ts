import type { Io } from './io.ts';

// Placeholder while issue 10 is built; replaced before it lands.
export async function checkCommand(_args: string[], _io: Io): Promise<number> {
  throw new Error('not built yet');
}
