/** One entry of a registry token's `access` claim (Docker distribution token specification). */
export type Access = Readonly<{ type: string; name: string; actions: string[] }>;

/** What a build's access key allows: push and pull on one repository of its own account. */
export type KeyGrant = Readonly<{ account: string; repository: string }>;

const SCOPE = /^([a-z0-9]+):([^:]+(?::\d+)?[^:]*):([a-z*]+(?:,[a-z*]+)*)$/;
const GRANTABLE = ['push', 'pull'];

/** Parses `repository:acme/hello:push,pull` scopes; malformed scopes are dropped (granting nothing). */
export const parseScopes = (scopes: readonly string[]): Access[] =>
  scopes.flatMap((scope) => {
    const match = SCOPE.exec(scope);
    return match ? [{ type: match[1], name: match[2], actions: match[3].split(',') }] : [];
  });

export const namespaceOf = (repository: string): string => repository.split('/')[0];

/**
 * The access a key holder gets: the requested actions on its own repository, only when that
 * repository lies in the key's account namespace; every other scope is answered with no actions,
 * so the registry refuses it.
 */
export const grantAccess = (key: KeyGrant, requested: readonly Access[]): Access[] =>
  requested.map((access) => {
    const allowed =
      access.type === 'repository' && access.name === key.repository && namespaceOf(access.name) === key.account;
    return { type: access.type, name: access.name, actions: allowed ? access.actions.filter((a) => GRANTABLE.includes(a)) : [] };
  });
