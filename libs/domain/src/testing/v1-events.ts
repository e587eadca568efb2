/**
 * A build's history exactly as schema 1 wrote it (before events said where an attempt ran): queued,
 * started on docker-primary, failed pushing, retried, started again, pushed. Literal JSON shapes, as
 * they lie in a store written by the first release; used to prove that every consumer reads them.
 */
const ref = { buildId: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b', org: 'acme', repo: 'legacy', accountType: 'org' };
const meta = (n: number, occurredAt: string) => ({
  eventId: `e1000000-0000-4000-8000-00000000000${n}`,
  occurredAt,
  actor: n === 1 ? 'anonymous' : 'system:executor',
  correlationId: 'c1000000-0000-4000-8000-000000000001',
  causationId: n === 1 ? 'r1000000-0000-4000-8000-000000000001' : `e1000000-0000-4000-8000-00000000000${n - 1}`,
  schemaVersion: 1,
});

export const V1_BUILD_ID = ref.buildId;

export const v1History = () => [
  { type: 'BuildQueued', data: { ...ref, source: { git: { url: '/srv/git/legacy', ref: 'main' } }, dockerfile: 'Dockerfile', tag: 'latest', repository: 'acme/legacy', priority: 5, timeoutSeconds: null, idempotencyKey: null }, metadata: meta(1, '2026-11-16T09:00:00.000Z') },
  { type: 'BuildStarted', data: { ...ref, attempt: 1, backend: 'docker-primary', node: 'node-1' }, metadata: meta(2, '2026-11-16T09:00:05.000Z') },
  { type: 'BuildImageBuilt', data: { ...ref, imageId: 'sha256:aaaa', durationMs: 30_000 }, metadata: meta(3, '2026-11-16T09:00:35.000Z') },
  { type: 'BuildPushStarted', data: { ...ref, registryEndpoint: 'primary' }, metadata: meta(4, '2026-11-16T09:00:36.000Z') },
  { type: 'BuildFailed', data: { ...ref, attempt: 1, phase: 'push', failureClass: 'registry-timeout', message: 'push stalled' }, metadata: meta(5, '2026-11-16T09:01:36.000Z') },
  { type: 'BuildRetryScheduled', data: { ...ref, attempt: 2, notBefore: '2026-11-16T09:01:40.000Z', reason: 'registry-timeout is retryable' }, metadata: meta(6, '2026-11-16T09:01:37.000Z') },
  { type: 'BuildStarted', data: { ...ref, attempt: 2, backend: 'docker-primary', node: 'node-1' }, metadata: meta(7, '2026-11-16T09:01:41.000Z') },
  { type: 'BuildImageBuilt', data: { ...ref, imageId: 'sha256:bbbb', durationMs: 20_000 }, metadata: meta(8, '2026-11-16T09:02:01.000Z') },
  { type: 'BuildPushStarted', data: { ...ref, registryEndpoint: 'primary' }, metadata: meta(9, '2026-11-16T09:02:02.000Z') },
  { type: 'BuildPushed', data: { ...ref, registry: '127.0.0.1:5000', repository: 'acme/legacy', tag: 'latest', digest: 'sha256:cccc' }, metadata: { ...meta(9, '2026-11-16T09:02:12.000Z'), eventId: 'e1000000-0000-4000-8000-000000000010' } },
];
