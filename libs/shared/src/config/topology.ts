import { CircuitPolicy, FAILURE_CLASSES, FailureClass, RetryPolicy } from '@lib/domain';
import { AppConfig, ConfigError } from './app-config';

export type BackendConfig = Readonly<{ name: string; dockerHost: string; concurrency: number }>;
export type RegistryEndpointConfig = Readonly<{ name: string; addr: string; url: string }>;
export type OrgLimits = Readonly<{ maxRunning: number; maxQueued: number; weight: number }>;

/** Where builds run and push, and the rules they are scheduled by: parsed once from AppConfig. */
export type Topology = Readonly<{
  backends: readonly BackendConfig[];
  endpoints: readonly RegistryEndpointConfig[];
  orgLimits: (org: string) => OrgLimits;
  retry: RetryPolicy;
  circuit: CircuitPolicy;
  queueTtlSeconds: number;
  leaseTtlSeconds: number;
  probeTimeoutMs: number;
}>;

const DOCKER_HOST = /^(unix:\/\/\/\S+|tcp:\/\/[^\s/]+:\d+)$/;

const entries = (value: string): [string, string][] =>
  value.split(',').map((entry) => {
    const at = entry.indexOf('=');
    return [entry.slice(0, at), entry.slice(at + 1)];
  });

const unique = (variable: string, names: string[]): void => {
  const seen = names.filter((name, index) => names.indexOf(name) !== index);
  if (seen.length) throw new ConfigError([{ variable, message: `names must be unique (repeated: ${[...new Set(seen)].join(', ')})` }]);
};

const parseBackends = (config: AppConfig): BackendConfig[] => {
  if (!config.BUILD_BACKENDS) return [{ name: config.EXECUTOR_BACKEND, dockerHost: config.DOCKER_HOST, concurrency: config.EXECUTOR_CONCURRENCY }];
  const backends = entries(config.BUILD_BACKENDS).map(([name, spec]) => {
    const [dockerHost, query = ''] = spec.split('?');
    if (!DOCKER_HOST.test(dockerHost)) throw new ConfigError([{ variable: 'BUILD_BACKENDS', message: `${name}: ${dockerHost} is not unix:///path or tcp://host:port` }]);
    const params = new URLSearchParams(query);
    const unknown = [...params.keys()].filter((key) => key !== 'concurrency');
    if (unknown.length) throw new ConfigError([{ variable: 'BUILD_BACKENDS', message: `${name}: unknown setting ${unknown.join(', ')} (only concurrency)` }]);
    const concurrency = Number(params.get('concurrency') ?? config.EXECUTOR_CONCURRENCY);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
      throw new ConfigError([{ variable: 'BUILD_BACKENDS', message: `${name}: concurrency must be an integer from 1 to 256 (got ${params.get('concurrency')})` }]);
    }
    return { name, dockerHost, concurrency };
  });
  unique('BUILD_BACKENDS', backends.map((backend) => backend.name));
  return backends;
};

const parseEndpoints = (config: AppConfig): RegistryEndpointConfig[] => {
  if (!config.REGISTRY_ENDPOINTS) return [{ name: 'primary', addr: config.REGISTRY_ADDR, url: config.REGISTRY_URL }];
  const endpoints = entries(config.REGISTRY_ENDPOINTS).map(([name, addr]) => ({ name, addr, url: `http://${addr}` }));
  unique('REGISTRY_ENDPOINTS', endpoints.map((endpoint) => endpoint.name));
  return endpoints;
};

const LIMIT_KEYS = ['maxRunning', 'maxQueued', 'weight'] as const;

const parseOrgLimits = (config: AppConfig): ((org: string) => OrgLimits) => {
  const defaults: OrgLimits = { maxRunning: config.ORG_MAX_RUNNING, maxQueued: config.ORG_MAX_QUEUED, weight: config.ORG_WEIGHT };
  if (!config.ORG_LIMITS) return () => defaults;
  let parsed: unknown;
  try {
    parsed = JSON.parse(config.ORG_LIMITS);
  } catch (error) {
    throw new ConfigError([{ variable: 'ORG_LIMITS', message: `not JSON: ${(error as Error).message}` }]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([{ variable: 'ORG_LIMITS', message: 'must be an object of org → {maxRunning, maxQueued, weight}' }]);
  }
  const overrides = new Map<string, OrgLimits>();
  for (const [org, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) throw new ConfigError([{ variable: 'ORG_LIMITS', message: `${org}: must be an object` }]);
    const limits: Record<string, number> = { ...defaults };
    for (const [key, number] of Object.entries(value as Record<string, unknown>)) {
      if (!(LIMIT_KEYS as readonly string[]).includes(key)) throw new ConfigError([{ variable: 'ORG_LIMITS', message: `${org}: unknown limit ${key} (maxRunning, maxQueued, weight)` }]);
      if (!Number.isInteger(number) || (number as number) < 1) throw new ConfigError([{ variable: 'ORG_LIMITS', message: `${org}.${key}: must be a positive integer (got ${JSON.stringify(number)})` }]);
      limits[key] = number as number;
    }
    overrides.set(org, limits as OrgLimits);
  }
  return (org) => overrides.get(org) ?? defaults;
};

const parseRetryLimits = (config: AppConfig): Partial<Record<FailureClass, number>> =>
  Object.fromEntries(entries(config.RETRY_LIMITS).filter(([failureClass]) => (FAILURE_CLASSES as readonly string[]).includes(failureClass)).map(([failureClass, n]) => [failureClass, Number(n)]));

export const topologyFrom = (config: AppConfig): Topology => {
  const orgLimits = parseOrgLimits(config);
  if (config.RETRY_MAX_MS < config.RETRY_BASE_MS) throw new ConfigError([{ variable: 'RETRY_MAX_MS', message: `must be at least RETRY_BASE_MS (${config.RETRY_BASE_MS})` }]);
  return {
    backends: parseBackends(config),
    endpoints: parseEndpoints(config),
    orgLimits,
    retry: {
      limits: parseRetryLimits(config),
      baseDelayMs: config.RETRY_BASE_MS,
      maxDelayMs: config.RETRY_MAX_MS,
      orgBudget: { retries: config.ORG_RETRY_BUDGET, windowSeconds: config.ORG_RETRY_BUDGET_WINDOW_SECONDS },
    },
    circuit: {
      windowSeconds: config.CIRCUIT_WINDOW_SECONDS,
      failureRateThreshold: config.CIRCUIT_FAILURE_RATE_PERCENT / 100,
      minRequests: config.CIRCUIT_MIN_REQUESTS,
      openSeconds: config.CIRCUIT_OPEN_SECONDS,
    },
    queueTtlSeconds: config.QUEUE_TTL_SECONDS,
    leaseTtlSeconds: config.LEASE_TTL_SECONDS,
    probeTimeoutMs: config.PROBE_TIMEOUT_MS,
  };
};
