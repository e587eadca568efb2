import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Build, buildDecider, BuildEvent, buildStream, foldBuild, QueueBuild } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { AppConfig, Clock, handleCommand, HttpProblem, IdGenerator, invalidField, nameBasedUuid, RequestContext, Topology } from '@lib/shared';
import { ClusterViewService, TOPOLOGY } from '../scheduling/cluster-view.service';
import { QUEUE_DEFAULTS, QueueBuildDto } from './queue-build.dto';
import { assertOrgInScope } from './build-scope';

/** `position` is the global position of the BuildQueued event: pass it as ?minPosition= to the projector to read your write. */
export type QueueBuildResult = Readonly<{ buildId: string; status: 'queued'; position: number; replayed: boolean }>;

export class QueueBuildCommand extends Command<QueueBuildResult> {
  constructor(
    readonly request: QueueBuildDto,
    readonly idempotencyKey: string | null,
    readonly context: RequestContext,
  ) {
    super();
  }
}

const IDEMPOTENCY_NAMESPACE = 'build-orchestrator/queue-build';

/** The parts of a queued build that a repeated request with the same Idempotency-Key must match. */
const requestShape = (data: QueueBuild['data']) =>
  JSON.stringify([data.org, data.repo, data.accountType, data.source, data.dockerfile, data.tag, data.repository, data.priority, data.timeoutSeconds]);

@CommandHandler(QueueBuildCommand)
export class QueueBuildHandler implements ICommandHandler<QueueBuildCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly config: AppConfig,
    private readonly cluster: ClusterViewService,
    @Inject(TOPOLOGY) private readonly topology: Topology,
  ) {}

  async execute({ request, idempotencyKey, context }: QueueBuildCommand): Promise<QueueBuildResult> {
    assertOrgInScope(request.org, context);
    if (request.timeoutSeconds !== undefined && request.timeoutSeconds > this.config.BUILD_TIMEOUT_SECONDS) {
      throw invalidField('timeoutSeconds', `must not exceed the configured maximum of ${this.config.BUILD_TIMEOUT_SECONDS}`);
    }
    const now = this.clock.now();
    // With a key, the build id and event id are derived from it, so a repeat lands on the same stream.
    const keyed = idempotencyKey === null ? null : `${request.org}\n${idempotencyKey}`;
    const buildId = keyed ? nameBasedUuid(IDEMPOTENCY_NAMESPACE, keyed) : this.ids.timeOrdered(now);
    const command: QueueBuild = {
      type: 'QueueBuild',
      data: {
        buildId,
        org: request.org,
        repo: request.repo,
        accountType: request.accountType ?? QUEUE_DEFAULTS.accountType,
        source: { git: { url: request.source.git.url, ref: request.source.git.ref ?? QUEUE_DEFAULTS.ref } },
        dockerfile: request.dockerfile ?? QUEUE_DEFAULTS.dockerfile,
        tag: request.tag ?? QUEUE_DEFAULTS.tag,
        repository: request.repository ?? `${request.org}/${request.repo}`,
        priority: request.priority ?? QUEUE_DEFAULTS.priority,
        timeoutSeconds: request.timeoutSeconds ?? null,
        idempotencyKey,
      },
      metadata: {
        eventId: keyed ? nameBasedUuid(`${IDEMPOTENCY_NAMESPACE}/event`, keyed) : this.ids.random(),
        occurredAt: now.toISOString(),
        actor: context.actor,
        correlationId: context.correlationId,
        causationId: context.requestId,
      },
    };
    if (keyed) {
      const recorded = await this.store.readStream(buildStream(buildId));
      const existing = foldBuild(recorded as unknown as BuildEvent[]);
      if (existing.status !== 'none') return this.replay(existing, command, recorded[0].globalPosition);
    }
    const { maxQueued } = this.topology.orgLimits(request.org);
    const release = this.cluster.reserveQueuePlace(request.org, maxQueued);
    if (!release) {
      throw new HttpProblem(429, 'org-queue-full', 'Too many requests',
        `Org ${request.org} already has ${maxQueued} builds queued, its limit; wait for some to start, or cancel some.`,
        [{ field: 'org', message: `has ${maxQueued} builds queued (the limit)` }], { 'retry-after': '30' });
    }
    try {
      const outcome = await handleCommand(this.store, buildDecider, buildStream(buildId), command);
      // The place stays taken until the view counts the build itself.
      void this.cluster.reach(outcome.lastPosition).then(release);
      return { buildId, status: 'queued', position: outcome.lastPosition, replayed: false };
    } catch (error) {
      release();
      throw error;
    }
  }

  private replay(existing: Exclude<Build, { status: 'none' }>, command: QueueBuild, position: number): QueueBuildResult {
    const { ref, source, dockerfile, tag, repository, priority, timeoutSeconds } = existing;
    const original = requestShape({ ...ref, source, dockerfile, tag, repository, priority, timeoutSeconds, idempotencyKey: existing.idempotencyKey });
    if (original !== requestShape(command.data)) {
      throw new HttpProblem(422, 'idempotency-key-reused', 'Idempotency-Key reused',
        'This Idempotency-Key was already used for a different build request; use a new key for a new build.',
        [{ field: 'Idempotency-Key', message: 'already used with a different request body' }]);
    }
    return { buildId: ref.buildId, status: 'queued', position, replayed: true };
  }
}
