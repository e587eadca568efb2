import { grantAccess, parseScopes } from './registry-scope';

describe('registry token scopes', () => {
  const key = { account: 'acme', repository: 'acme/hello' };

  it('parses the scopes the engine asks for', () => {
    expect(parseScopes(['repository:acme/hello:push,pull', 'repository:127.0.0.1:5000/x:pull', 'garbage'])).toEqual([
      { type: 'repository', name: 'acme/hello', actions: ['push', 'pull'] },
      { type: 'repository', name: '127.0.0.1:5000/x', actions: ['pull'] },
    ]);
  });

  it('given a key for acme/hello, grants push and pull on acme/hello only', () => {
    expect(grantAccess(key, parseScopes(['repository:acme/hello:push,pull']))).toEqual([{ type: 'repository', name: 'acme/hello', actions: ['push', 'pull'] }]);
  });

  it.each([
    ['another org\'s repository', 'repository:globex/hello:push,pull'],
    ['another repository of the same org', 'repository:acme/other:push,pull'],
    ['the registry catalog', 'registry:catalog:*'],
  ])('grants nothing on %s', (_, scope) => {
    expect(grantAccess(key, parseScopes([scope]))[0].actions).toEqual([]);
  });

  it('never grants delete or wildcard actions', () => {
    expect(grantAccess(key, parseScopes(['repository:acme/hello:pull,delete,*']))[0].actions).toEqual(['pull']);
  });

  it('grants nothing when the key itself targets another namespace than its account', () => {
    expect(grantAccess({ account: 'acme', repository: 'globex/hello' }, parseScopes(['repository:globex/hello:push,pull']))[0].actions).toEqual([]);
  });
});
