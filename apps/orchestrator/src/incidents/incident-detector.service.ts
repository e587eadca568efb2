import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DETECTOR_INPUT_TYPES, DetectorEmission, IncidentDetector, IncidentRule } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';

export const INCIDENT_RULES = Symbol('INCIDENT_RULES');
/** Whether this instance runs the detector (INCIDENT_DETECTOR_ENABLED). */
export const INCIDENT_DETECTOR_ENABLED = Symbol('INCIDENT_DETECTOR_ENABLED');

type Waiter = { position: number; resolve: () => void };

/**
 * Runs the incident detector over the log: from position 0 at start-up, then live. The detector is
 * deterministic (the times inside events, never the clock) and names every event it writes with an
 * id derived from the event that caused it, so replaying the log writes nothing twice: an append
 * whose events are already in the log is an idempotent repeat (`written: false`). Several
 * orchestrator instances may run it; each incident event still lands once.
 */
@Injectable()
export class IncidentDetectorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('incident-detector');
  private readonly detector: IncidentDetector;
  private readonly controller = new AbortController();
  private readonly waiters = new Set<Waiter>();
  private running: Promise<void> | null = null;
  private reached = 0;
  private written = 0;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(INCIDENT_RULES) readonly rules: readonly IncidentRule[],
    @Inject(INCIDENT_DETECTOR_ENABLED) readonly enabled: boolean,
  ) {
    this.detector = new IncidentDetector(rules);
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.running = this.follow(this.controller.signal).catch((error: Error) => {
      if (!this.controller.signal.aborted) this.logger.error(`the incident detector stopped: ${error.stack ?? error.message}`);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.controller.abort();
    await this.running;
  }

  /** The log position the detector has read and acted on. */
  get position(): number {
    return this.reached;
  }

  /** Incident events this instance appended (idempotent repeats not counted). */
  get appended(): number {
    return this.written;
  }

  get open() {
    return this.detector.open;
  }

  /** Resolves once the detector has acted on every event up to `position`. */
  waitFor(position: number): Promise<void> {
    if (this.reached >= position) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add({ position, resolve }));
  }

  private async follow(signal: AbortSignal): Promise<void> {
    const started = Date.now();
    let caughtUp = false;
    for await (const batch of this.store.subscribeToAll({ afterPosition: 0, filter: { eventTypes: DETECTOR_INPUT_TYPES }, signal })) {
      for (const event of batch.events) {
        for (const emission of this.detector.handle(event)) await this.append(emission);
      }
      this.reached = batch.position;
      for (const waiter of this.waiters) {
        if (waiter.position > this.reached) continue;
        this.waiters.delete(waiter);
        waiter.resolve();
      }
      if (batch.caughtUp && !caughtUp) {
        caughtUp = true;
        this.logger.log(`caught up with the log at position ${batch.position} in ${Date.now() - started} ms; ${this.detector.open.length} incident(s) open`);
      }
    }
  }

  private async append({ stream, events }: DetectorEmission): Promise<void> {
    const result = await this.store.append(stream, events, 'any');
    if (!result.written) return;
    this.written += events.length;
    for (const event of events) this.logger.log(`${event.type} ${stream}${'milestone' in event.data ? ` (${event.data.milestone})` : ''}`);
  }
}
