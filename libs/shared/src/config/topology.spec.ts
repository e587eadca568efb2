import { ConfigError, loadConfig } from './app-config';
import { topologyFrom } from './topology';

const topology = (env: Record<string, string>) => topologyFrom(loadConfig(env));

const problemOf = (env: Record<string, string>): { variable: string; message: string } => {
  try {
    topology(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems[0];
  }
  throw new Error('expected a ConfigError');
};

describe('topology: backends, registry endpoints and scheduling rules from the configuration', () => {
  it('given nothing, then one backend and one endpoint come from the single-engine variables', () => {
    const result = topology({ EXECUTOR_BACKEND: 'local', DOCKER_HOST: 'unix:///run/docker.sock', EXECUTOR_CONCURRENCY: '3', REGISTRY_ADDR: '127.0.0.1:5000' });
    expect(result.backends).toEqual([{ name: 'local', dockerHost: 'unix:///run/docker.sock', concurrency: 3 }]);
    expect(result.endpoints).toEqual([{ name: 'primary', addr: '127.0.0.1:5000', url: 'http://127.0.0.1:5000' }]);
    expect(result.orgLimits('anyone')).toEqual({ maxRunning: 4, maxQueued: 500, weight: 1 });
    expect(result.retry.limits).toEqual({ 'registry-timeout': 3, 'registry-unavailable': 3, infrastructure: 2 });
    expect(result.circuit).toEqual({ windowSeconds: 120, failureRateThreshold: 0.5, minRequests: 4, openSeconds: 30 });
  });

  it('given several backends and endpoints, then they keep their order of preference and their settings', () => {
    const result = topology({
      BUILD_BACKENDS: 'engine1=unix:///var/run/docker.sock?concurrency=4,engine2=tcp://127.0.0.1:2375',
      EXECUTOR_CONCURRENCY: '2',
      REGISTRY_ENDPOINTS: 'primary=127.0.0.1:5000,fallback=localhost:5001',
    });
    expect(result.backends).toEqual([
      { name: 'engine1', dockerHost: 'unix:///var/run/docker.sock', concurrency: 4 },
      { name: 'engine2', dockerHost: 'tcp://127.0.0.1:2375', concurrency: 2 },
    ]);
    expect(result.endpoints.map((endpoint) => [endpoint.name, endpoint.url])).toEqual([['primary', 'http://127.0.0.1:5000'], ['fallback', 'http://localhost:5001']]);
  });

  it('given per-org overrides, then they replace the defaults for those orgs only', () => {
    const result = topology({ ORG_MAX_RUNNING: '2', ORG_LIMITS: '{"acme":{"maxRunning":8,"weight":3}}' });
    expect(result.orgLimits('acme')).toEqual({ maxRunning: 8, maxQueued: 500, weight: 3 });
    expect(result.orgLimits('globex')).toEqual({ maxRunning: 2, maxQueued: 500, weight: 1 });
  });

  it.each([
    [{ BUILD_BACKENDS: 'a=unix:///x,a=unix:///y' }, 'BUILD_BACKENDS', /unique.*a/],
    [{ BUILD_BACKENDS: 'a=http://127.0.0.1:2375' }, 'BUILD_BACKENDS', /not unix/],
    [{ BUILD_BACKENDS: 'a=unix:///x?concurrency=0' }, 'BUILD_BACKENDS', /concurrency must be/],
    [{ BUILD_BACKENDS: 'a=unix:///x?cpus=2' }, 'BUILD_BACKENDS', /unknown setting cpus/],
    [{ BUILD_BACKENDS: 'Upper=unix:///x' }, 'BUILD_BACKENDS', /lower-case/],
    [{ REGISTRY_ENDPOINTS: 'p=127.0.0.1:5000,p=127.0.0.1:5001' }, 'REGISTRY_ENDPOINTS', /unique/],
    [{ REGISTRY_ENDPOINTS: 'p=http://127.0.0.1:5000' }, 'REGISTRY_ENDPOINTS', /name=host:port/],
    [{ ORG_LIMITS: '{not json' }, 'ORG_LIMITS', /not JSON/],
    [{ ORG_LIMITS: '[1]' }, 'ORG_LIMITS', /must be an object/],
    [{ ORG_LIMITS: '{"acme":{"speed":1}}' }, 'ORG_LIMITS', /unknown limit speed/],
    [{ ORG_LIMITS: '{"acme":{"weight":0}}' }, 'ORG_LIMITS', /acme.weight: must be a positive integer/],
    [{ RETRY_LIMITS: 'build-error=3' }, 'RETRY_LIMITS', /classes registry-timeout/],
    [{ RETRY_BASE_MS: '5000', RETRY_MAX_MS: '1000' }, 'RETRY_MAX_MS', /at least RETRY_BASE_MS/],
    [{ CIRCUIT_FAILURE_RATE_PERCENT: '0' }, 'CIRCUIT_FAILURE_RATE_PERCENT', /./],
    [{ LEASE_TTL_SECONDS: '1' }, 'LEASE_TTL_SECONDS', /./],
  ])('given %j, then the start stops naming %s', (env, variable, message) => {
    const problem = problemOf(env as Record<string, string>);
    expect(problem.variable).toBe(variable);
    expect(problem.message).toMatch(message);
  });
});
