/**
 * What every command shares: where it writes, what it reads from its environment, and the exit
 * codes. Its own module, so the commands and `main` (which loads them) do not import each other.
 */

/** Where the CLI writes and what it reads from its environment. */
export interface Io {
  readonly stdout: {
    /** `false` when the stream's buffer is full: wait for `drain` before writing more. */
    write(text: string): unknown;
    readonly isTTY?: boolean;
    once?(event: 'drain', listener: () => void): unknown;
  };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** 128 + the signal's number, as shells report a process a signal ended. */
export const EXIT_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const;
