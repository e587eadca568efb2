import { BuildNotFoundError, inScope, OrgScope } from '@lib/domain';
import { forbiddenOrg as sharedForbiddenOrg, HttpProblem } from '@lib/shared';

/**
 * How the projector's reads apply a principal's org scope (libs/domain/src/access.events.ts):
 * - a build of an org out of scope is answered exactly as a build that does not exist (the same
 *   404), so that ids cannot be probed for existence;
 * - a filter naming an org out of scope is refused (403 `forbidden-org`, naming the parameter):
 *   filters narrow the scope, they never widen it. The refusal depends on the scope alone, never on
 *   what exists, so it leaks nothing either;
 * - without a filter, a scoped principal sees the orgs in its scope.
 */

/** The projector's wording of the shared 403 `forbidden-org`. */
export const forbiddenOrg = (field: string, detail: string, message = 'not one of the orgs this principal may read'): HttpProblem =>
  sharedForbiddenOrg(field, detail, message);

/** The org a parameter names, when the scope holds it; 403 naming the parameter otherwise. */
export const orgInScope = (scope: OrgScope, field: string, org: string): string => {
  if (!inScope(scope, org)) throw forbiddenOrg(field, `This principal may not read builds of org ${JSON.stringify(org)}`);
  return org;
};

/**
 * The orgs a read may cover: the one asked for (which must be in scope), else every org (null) for
 * an unscoped principal, else the scope's orgs in name order (none at all for an empty scope).
 */
export const orgsToRead = (scope: OrgScope, field: string, org: string | undefined): string | readonly string[] | null =>
  org !== undefined ? orgInScope(scope, field, org) : scope.kind === 'all' ? null : [...scope.orgs].sort();

/** The build when it exists and its org is in scope; the same BuildNotFoundError otherwise. */
export const visibleBuild = <T extends { readonly org: string }>(scope: OrgScope, buildId: string, build: T | null | undefined): T => {
  if (!build || !inScope(scope, build.org)) throw new BuildNotFoundError(buildId);
  return build;
};

/** The org a build event carries (every build event carries its build's ref). */
export const orgOfBuildEvent = (event: { readonly data: Readonly<Record<string, unknown>> }): string => String(event.data.org);

/** A build's events (of one stream) when there are any and its org is in scope; BuildNotFoundError otherwise. */
export const visibleBuildEvents = <T extends { readonly data: Readonly<Record<string, unknown>> }>(scope: OrgScope, buildId: string, events: readonly T[]): readonly T[] => {
  visibleBuild(scope, buildId, events.length === 0 ? null : { org: orgOfBuildEvent(events[0]) });
  return events;
};
