import { BuildEvent } from './build.events';
import { foldBuild } from './build.state';
import { CURRENT_SCHEMA_VERSION } from './event';
import { buildFailed, buildStarted } from './testing/build.fixtures';
import { V1_BUILD_ID, v1History } from './testing/v1-events';
import { upcast } from './upcasters';

describe('upcasting events written under schema 1', () => {
  const upcastHistory = () => v1History().map(upcast) as unknown as BuildEvent[];

  it('given a v1 BuildStarted, then it names its node as executor and does not guess when it was ready', () => {
    expect(upcastHistory()[1].data).toEqual({ buildId: V1_BUILD_ID, org: 'acme', repo: 'legacy', accountType: 'org', attempt: 1, backend: 'docker-primary', node: 'node-1', executor: 'node-1', readySince: null });
  });

  it('given v1 events that end an attempt, then where it ran is null (never guessed)', () => {
    const [, , built, , failed, , , , , pushed] = upcastHistory();
    expect(built.data).toMatchObject({ backend: null });
    expect(failed.data).toMatchObject({ backend: null, registryEndpoint: null, startedAt: null, failureClass: 'registry-timeout' });
    expect(pushed.data).toMatchObject({ backend: null, registryEndpoint: null, startedAt: null, attempt: null, digest: 'sha256:cccc' });
  });

  it('given a v1 BuildRetryScheduled, then its delay is derived from its own times and its cause is unknown', () => {
    expect(upcastHistory()[5].data).toMatchObject({ attempt: 2, notBefore: '2026-11-16T09:01:40.000Z', delayMs: 3000, failureClass: null });
  });

  it('keeps the version the event was written with, and the rest of the envelope', () => {
    const [original, upcasted] = [v1History()[1], upcastHistory()[1]];
    expect(upcasted.metadata).toEqual(original.metadata);
    expect(upcasted.type).toBe(original.type);
  });

  it('given current events, then they are returned unchanged (the same object)', () => {
    for (const event of [buildStarted(), buildFailed()]) {
      expect(event.metadata.schemaVersion).toBe(CURRENT_SCHEMA_VERSION);
      expect(upcast(event)).toBe(event);
    }
  });

  it('given the whole v1 history, then the decider folds it to the same build', () => {
    const build = foldBuild(upcastHistory());
    expect(build).toMatchObject({ status: 'pushed', attempt: 2, digest: 'sha256:cccc', retries: {} });
  });
});
