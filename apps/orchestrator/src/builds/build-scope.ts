import { Build, BuildNotFoundError, inScope } from '@lib/domain';
import { forbiddenOrg, RequestContext } from '@lib/shared';

/**
 * A build of an org outside the caller's scope is, to the caller, a build that does not exist:
 * the same 404 as an unknown id, so that ids cannot be probed for existence.
 */
export const onlyBuildsInScope = (buildId: string, context: RequestContext) => (state: Build): void => {
  if (state.status !== 'none' && !inScope(context.scope, state.ref.org)) throw new BuildNotFoundError(buildId);
};

/** A command that names an org (queueing a build) must name one of the caller's. */
export const assertOrgInScope = (org: string, context: RequestContext): void => {
  if (inScope(context.scope, org)) return;
  throw forbiddenOrg('org', `This principal may not act on builds of org ${JSON.stringify(org)}`);
};
