import { Build, BuildEvent, evolve, ExistingBuild, initialBuild } from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';

export type TrackedBuild = Readonly<{
  build: ExistingBuild;
  /** Global position of the BuildQueued event: first come, first served within a priority. */
  queuedPosition: number;
  correlationId: string;
  lastEventId: string;
}>;

const FORGOTTEN: readonly Build['status'][] = ['pushed', 'canceled', 'expired'];

/**
 * The executor's picture of the builds that may still need work, folded from the log with the
 * domain's own `evolve`: queued, running and pushing builds, and failed or timed-out ones (which a
 * retry may queue again). Builds that can never move again are forgotten.
 */
export class BuildTracker {
  private readonly builds = new Map<string, TrackedBuild>();

  apply(event: RecordedEvent): TrackedBuild | null {
    const domainEvent = event as unknown as BuildEvent;
    const buildId = domainEvent.data.buildId;
    const current = this.builds.get(buildId);
    if (!current && domainEvent.type !== 'BuildQueued') return null;
    const build = evolve(current?.build ?? initialBuild(), domainEvent) as ExistingBuild;
    const tracked: TrackedBuild = {
      build,
      queuedPosition: current?.queuedPosition ?? event.globalPosition,
      correlationId: current?.correlationId ?? event.metadata.correlationId,
      lastEventId: event.metadata.eventId,
    };
    if (FORGOTTEN.includes(build.status)) this.builds.delete(buildId);
    else this.builds.set(buildId, tracked);
    return tracked;
  }

  get(buildId: string): TrackedBuild | undefined {
    return this.builds.get(buildId);
  }

  /** Queued builds whose notBefore has passed, best first: higher priority, then earlier in the log. */
  ready(now: Date): TrackedBuild[] {
    return [...this.builds.values()]
      .filter(({ build }) => build.status === 'queued' && (build.notBefore === null || Date.parse(build.notBefore) <= now.getTime()))
      .sort((a, b) => b.build.priority - a.build.priority || a.queuedPosition - b.queuedPosition);
  }

  /** The earliest notBefore still in the future, to wake up for. */
  nextWakeUp(now: Date): number | null {
    const times = [...this.builds.values()]
      .map(({ build }) => (build.status === 'queued' && build.notBefore ? Date.parse(build.notBefore) : Number.NaN))
      .filter((time) => time > now.getTime());
    return times.length ? Math.min(...times) : null;
  }
}
