import { EventStore } from '@lib/event-store';
import { AnyProjection } from '../projections/projection';
import { DocumentRow, ReadSnapshot, ReadStore } from '../read-store/read-store.port';
import { formatFieldDifference, rowDifferences } from './document-diff';
import { ProjectionRunner, unionFilter } from './projection-runner';
import { RebuildProgress } from './rebuild';

export type VerifyOptions = Readonly<{
  batchSize?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Once the replay is done, before the comparison reports anything. */
  onReplayed?: () => void;
  /** Rows read per query while comparing. */
  pageSize?: number;
}>;

export type ProjectionVerdict = Readonly<{ name: string; position: number; documents: number; differences: number }>;
export type VerifyResult = Readonly<{ projections: readonly ProjectionVerdict[]; differences: number }>;

const DEFAULT_PAGE_SIZE = 1000;

/** Ids in the order both adapters store them: bytes of UTF-8 (SQLite BINARY, PostgreSQL COLLATE "C"). */
const compareIds = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function* rowsOf(snapshot: ReadSnapshot, projection: AnyProjection, pageSize: number): AsyncGenerator<DocumentRow> {
  for (let page = await snapshot.rows(projection, null, pageSize); page.length > 0; page = await snapshot.rows(projection, page[page.length - 1].id, pageSize)) {
    yield* page;
    if (page.length < pageSize) return;
  }
}

/** Replays the log into `scratch` up to each projection's position in `stopAt`, with the live projector's code path. */
const replay = async (store: EventStore, scratch: ReadStore, projections: readonly AnyProjection[], stopAt: ReadonlyMap<string, number>, options: VerifyOptions) => {
  const filter = unionFilter(projections);
  const last = Math.max(...stopAt.values());
  const progress = { done: 0, total: (await store.countEventsAfter(0, filter)) - (await store.countEventsAfter(last, filter)) };
  const runner = new ProjectionRunner(store, scratch, projections, {
    batchSize: options.batchSize,
    stopAt,
    afterCommit: (_position, events) => {
      progress.done = Math.min(progress.total, progress.done + events);
      options.onProgress?.(progress);
    },
  });
  await runner.start();
  try {
    options.onProgress?.(progress);
    await runner.ended();
  } finally {
    await runner.stop();
  }
};

/** Walks both stores' rows in id order side by side, reporting every difference. */
const compareProjection = async (
  projection: AnyProjection, position: number, live: ReadSnapshot, rebuilt: ReadSnapshot, report: (line: string) => void, pageSize: number,
): Promise<ProjectionVerdict> => {
  const liveRows = rowsOf(live, projection, pageSize);
  const rebuiltRows = rowsOf(rebuilt, projection, pageSize);
  let [l, r] = [await liveRows.next(), await rebuiltRows.next()];
  let documents = 0;
  let differences = 0;
  while (!l.done || !r.done) {
    documents += 1;
    const order = l.done ? 1 : r.done ? -1 : compareIds(l.value.id, r.value.id);
    if (order < 0 && !l.done) {
      differences += 1;
      report(`${projection.name} ${l.value.id}: only in the live read model (a replay of the log has no such document)`);
      l = await liveRows.next();
    } else if (order > 0 && !r.done) {
      differences += 1;
      report(`${projection.name} ${r.value.id}: missing from the live read model`);
      r = await rebuiltRows.next();
    } else if (!l.done && !r.done) {
      const fields = rowDifferences(l.value, r.value);
      if (fields.length > 0) {
        differences += 1;
        report([`${projection.name} ${l.value.id}: differs`, ...fields.map(formatFieldDifference)].join('\n'));
      }
      [l, r] = [await liveRows.next(), await rebuiltRows.next()];
    }
  }
  report(`${projection.name}: ${differences === 0 ? 'equal' : `${differences} difference${differences === 1 ? '' : 's'}`} (${documents} documents at position ${position})`);
  return { name: projection.name, position, documents, differences };
};

/**
 * Compares the live read models with a replay of the log into `scratch` (an empty store): a
 * snapshot of the live store fixes each projection's checkpoint, the replay stops exactly there, and
 * every document is compared (fields, query columns, last position). The live projector may keep
 * running meanwhile: the snapshot does not see its later commits.
 */
export const verify = async (
  store: EventStore,
  live: ReadStore,
  scratch: ReadStore,
  projections: readonly AnyProjection[],
  report: (line: string) => void,
  options: VerifyOptions = {},
): Promise<VerifyResult> => {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const liveSnapshot = await live.snapshot();
  try {
    const verdicts: ProjectionVerdict[] = [];
    const stopAt = new Map<string, number>();
    for (const projection of projections) {
      const record = liveSnapshot.checkpoints.find((checkpoint) => checkpoint.name === projection.name);
      if (record?.version === projection.version) {
        stopAt.set(projection.name, record.position);
        continue;
      }
      report(`${projection.name}: ${record ? `live at version ${record.version}, but this code has version ${projection.version}` : 'not in the live read store (has the projector run it?)'}`);
      verdicts.push({ name: projection.name, position: record?.position ?? 0, documents: 0, differences: 1 });
    }
    const comparable = projections.filter((projection) => stopAt.has(projection.name));
    if (comparable.length > 0) {
      await replay(store, scratch, comparable, stopAt, options);
      options.onReplayed?.();
      const rebuilt = await scratch.snapshot();
      try {
        for (const projection of comparable) verdicts.push(await compareProjection(projection, stopAt.get(projection.name)!, liveSnapshot, rebuilt, report, pageSize));
      } finally {
        await rebuilt.release();
      }
    }
    return { projections: verdicts, differences: verdicts.reduce((sum, verdict) => sum + verdict.differences, 0) };
  } finally {
    await liveSnapshot.release();
  }
};
