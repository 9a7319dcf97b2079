// A second process writing raw points into the SQLite store in argv[2], dataset argv[3]: argv[4]
// points, one writePoint call each, Timestamps 15 minutes apart from WRITER_START and
// DeliveryAttempts equal to the point's index. Prints `ready` once the store is open and `done N`
// at the end; run by sqlite-store.test.ts to prove WAL lets another process read and write meanwhile.
import { SqliteDatasetStore } from '../../lambda/adapters/sqlite-dataset-store.ts';

export const WRITER_START = '2026-01-01T00:07:00Z';
export const WRITER_FETCHED_AT = '2026-11-28T12:00:00.000Z';

/** The Timestamp of point `i`. */
export function writerTimestamp(i: number): string {
  return new Date(Date.parse(WRITER_START) + i * 900_000).toISOString().replace('.000Z', 'Z');
}

if (process.argv[1] === import.meta.filename) {
  const [file = '', dataset = '', count = '0'] = process.argv.slice(2);
  const store = SqliteDatasetStore.open(file);
  process.stdout.write('ready\n');
  for (let i = 0; i < Number(count); i++)
    await store.writePoint(
      dataset,
      {
        Timestamp: writerTimestamp(i),
        DeliveryAttempts: i,
        Bounces: 0,
        Complaints: 0,
        Rejects: 0,
      },
      WRITER_FETCHED_AT,
    );
  store.close();
  process.stdout.write(`done ${count}\n`);
}
