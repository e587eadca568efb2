import { EventStore } from '@lib/event-store';
import { ReadStore } from '../read-store/read-store.port';

export type ProjectionLag = Readonly<{ name: string; checkpoint: number; lagEvents: number; lagSeconds: number }>;

/**
 * How far each projection trails the log: events after its checkpoint, and the age of the oldest of
 * them (0 when caught up). The same figures as GET /projections.
 */
export const projectionLags = async (store: EventStore, readStore: ReadStore, names: readonly string[], now: Date): Promise<ProjectionLag[]> => {
  const checkpoints = new Map((await readStore.checkpoints()).map((record) => [record.name, record.position]));
  return Promise.all(
    names.map(async (name): Promise<ProjectionLag> => {
      const checkpoint = checkpoints.get(name) ?? 0;
      const lagEvents = await store.countEventsAfter(checkpoint);
      if (lagEvents === 0) return { name, checkpoint, lagEvents, lagSeconds: 0 };
      const [next] = await store.readAll({ fromPosition: checkpoint + 1, maxCount: 1 });
      const lagSeconds = next ? Math.max(0, (now.getTime() - Date.parse(next.recordedAt)) / 1000) : 0;
      return { name, checkpoint, lagEvents, lagSeconds };
    }),
  );
};
