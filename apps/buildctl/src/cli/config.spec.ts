import { DEFAULT_ORCHESTRATOR_URL, DEFAULT_PROJECTOR_URL, resolveSettings } from './config';
import { UsageError } from './errors';

const noFile = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
};

describe('resolveSettings', () => {
  it('uses the defaults and no token when nothing is set', () => {
    expect(resolveSettings({}, {}, noFile)).toEqual({ orchestratorUrl: DEFAULT_ORCHESTRATOR_URL, projectorUrl: DEFAULT_PROJECTOR_URL, token: null });
  });

  it('takes the environment, and flags over the environment', () => {
    const env = { BUILDCTL_ORCHESTRATOR_URL: 'http://o:1', BUILDCTL_PROJECTOR_URL: 'http://p:1', BUILDCTL_TOKEN: 'env-token' };
    expect(resolveSettings({}, env, noFile)).toEqual({ orchestratorUrl: 'http://o:1', projectorUrl: 'http://p:1', token: 'env-token' });
    expect(resolveSettings({ orchestrator: 'https://o:2', token: 'flag-token' }, env, noFile)).toEqual({ orchestratorUrl: 'https://o:2', projectorUrl: 'http://p:1', token: 'flag-token' });
  });

  it('reads the first line of --token-file, before BUILDCTL_TOKEN', () => {
    const settings = resolveSettings({ 'token-file': '/t' }, { BUILDCTL_TOKEN: 'env-token' }, () => 'file-token\nignored\n');
    expect(settings.token).toBe('file-token');
  });

  it.each([
    [{ orchestrator: 'ftp://x' }, {}, /--orchestrator must be an http/],
    [{}, { BUILDCTL_PROJECTOR_URL: 'not a url' }, /BUILDCTL_PROJECTOR_URL must be an http/],
    [{ projector: 'http://user:secret@p' }, {}, /must not carry credentials/],
    [{ 'token-file': '/missing' }, {}, /cannot read --token-file \/missing: ENOENT/],
  ])('refuses %j %j', (options, env, message) => {
    expect(() => resolveSettings(options, env, noFile)).toThrow(UsageError);
    expect(() => resolveSettings(options, env, noFile)).toThrow(message);
  });

  it('names an empty token file without printing anything of it', () => {
    expect(() => resolveSettings({ 'token-file': '/t' }, {}, () => '\n')).toThrow('--token-file /t is empty');
  });
});
