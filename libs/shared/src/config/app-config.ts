import { plainToInstance, Transform } from 'class-transformer';
import { join } from 'node:path';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, validateSync, ValidateBy } from 'class-validator';

/** Schemas a READ_STORE_URL may name: short enough for verify's scratch schemas (`<schema>_verify_<hex>`) to fit. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;
const READ_STORE_URL_SHAPE = 'postgres://user:password@host:port/database[?schema=name]';

/** What is wrong with a READ_STORE_URL, or null when it is usable. */
export const readStoreUrlProblem = (value: string): string | null => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be a URL like ${READ_STORE_URL_SHAPE}`;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return `must start with postgres:// or postgresql:// (${READ_STORE_URL_SHAPE}); unset it for SQLite under DATA_DIR`;
  if (!url.hostname) return `must name a host (${READ_STORE_URL_SHAPE})`;
  if (url.pathname.length <= 1) return `must name a database (${READ_STORE_URL_SHAPE})`;
  const schema = url.searchParams.get('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema)) return 'schema must be lower-case letters, digits and _, starting with a letter or _, at most 40 characters';
  return null;
};

/** The connection string for the client (without `schema`) and the schema the read models live in (default `public`). */
export const parseReadStoreUrl = (value: string): { connectionString: string; schema: string } => {
  const problem = readStoreUrlProblem(value);
  if (problem) throw new Error(`READ_STORE_URL ${problem}`);
  const url = new URL(value);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema };
};

/** A URL's password, masked for messages and logs. */
export const redactUrl = (value: string): string => value.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@');

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value);

/**
 * Every environment variable the apps read, validated once at start-up (STYLE.md rule 19).
 * Defaults give the embedded set-up: SQLite files under ./data, both apps on loopback.
 */
export class AppConfig {
  @IsString() @MinLength(1)
  DATA_DIR = './data';

  @IsString() @Matches(/^[0-9a-fA-F.:]+$|^localhost$/, { message: 'HOST must be an IP address or localhost' })
  HOST = '127.0.0.1';

  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PROJECTOR_PORT = 3001;

  @IsOptional() @IsString() @MaxLength(2048)
  @Matches(/^esdb(\+discover)?:\/\/\S+$/, { message: 'EVENTSTORE_CONNECTION_STRING must be an esdb:// or esdb+discover:// connection string' })
  EVENTSTORE_CONNECTION_STRING?: string;

  /** Read models in PostgreSQL instead of SQLite (`DATA_DIR/read-models.sqlite`). */
  @IsOptional() @IsString() @MaxLength(2048)
  @ValidateBy({
    name: 'isReadStoreUrl',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && readStoreUrlProblem(value) === null,
      defaultMessage: (args) => `READ_STORE_URL ${readStoreUrlProblem(String(args?.value)) ?? 'must be a string'}`,
    },
  })
  READ_STORE_URL?: string;

  /** FULL: an acknowledged append is on disk (fsync per group commit). NORMAL: survives a crash of the process only. */
  @IsIn(['FULL', 'NORMAL'])
  SQLITE_SYNCHRONOUS: 'FULL' | 'NORMAL' = 'FULL';

  @Transform(toInt) @IsInt() @Min(1024) @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 64 * 1024;

  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  /** json: one JSON object per log line (time, level, app, context, message, correlationId, stack), for log shippers; text: Nest's coloured console lines, for a terminal. */
  @IsIn(['json', 'text'], { message: 'LOG_FORMAT must be json or text' })
  LOG_FORMAT: 'json' | 'text' = 'json';

  @Transform(toInt) @IsInt() @Min(1) @Max(100000)
  PROJECTOR_BATCH_SIZE = 1000;

  @Transform(toInt) @IsInt() @Min(1) @Max(10000)
  STORE_POLL_INTERVAL_MS = 20;

  // ------------------------------------------------------------ access
  /** Requests each principal may send per second, on average, to each app process. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  RATE_LIMIT_PER_SECOND = 50;

  /** Requests a principal may send at once above that rate (the size of its token bucket). */
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  RATE_LIMIT_BURST = 100;

  /** Failed authentications (missing, malformed or invalid tokens) per client address per minute; more are refused with 429 before any token is checked. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE = 60;

  // ------------------------------------------------------------ executor
  /** Run queued builds in this orchestrator process (false: command API only). */
  @IsIn(['true', 'false'])
  EXECUTOR_ENABLED: 'true' | 'false' = 'true';

  /** Docker engine, as the docker CLI reads it: unix:///path or tcp://127.0.0.1:port. */
  @IsString() @Matches(/^(unix:\/\/\/\S+|tcp:\/\/[^\s/]+:\d+)$/, { message: 'DOCKER_HOST must be unix:///path or tcp://host:port' })
  DOCKER_HOST = 'unix:///var/run/docker.sock';

  @Transform(toInt) @IsInt() @Min(1) @Max(64)
  EXECUTOR_CONCURRENCY = 2;

  /** The name this executor's builds record as their backend. */
  @IsString() @Matches(/^[a-z0-9][a-z0-9._-]{0,62}$/, { message: 'EXECUTOR_BACKEND must be a lower-case name' })
  EXECUTOR_BACKEND = 'local';

  /** Maximum time a build may run (fetch, build and push), in seconds; a build may ask for less. */
  @Transform(toInt) @IsInt() @Min(1) @Max(24 * 3600)
  BUILD_TIMEOUT_SECONDS = 1800;

  @Transform(toInt) @IsInt() @Min(6 * 1024 * 1024)
  BUILD_MEMORY_BYTES = 2 * 1024 * 1024 * 1024;

  /** CPU limit of each build step, in CPUs (fractions allowed as millicpus: 1500 = 1.5 CPUs). */
  @Transform(toInt) @IsInt() @Min(10) @Max(256000)
  BUILD_MILLICPUS = 1000;

  @Transform(toInt) @IsInt() @Min(8) @Max(1000000)
  BUILD_PIDS_LIMIT = 512;

  /** cgroup v1 pids hierarchy under which each build gets its own parent cgroup (pids limit). */
  @IsString()
  BUILD_CGROUP_ROOT = '/sys/fs/cgroup/pids';

  /** Per-build work directories (source checkouts), removed after each attempt. */
  @IsString() @MinLength(1)
  WORK_DIR = '';

  /** Size limit of one build's stored log; output beyond it is dropped with a marker line. */
  @Transform(toInt) @IsInt() @Min(4096) @Max(1024 * 1024 * 1024)
  BUILD_LOG_MAX_BYTES = 4 * 1024 * 1024;

  @Transform(toInt) @IsInt() @Min(1) @Max(3600)
  GIT_TIMEOUT_SECONDS = 120;

  /** Deadline of one push, including the manifest check; a stalled upload fails as registry-timeout. */
  @Transform(toInt) @IsInt() @Min(1) @Max(24 * 3600)
  PUSH_TIMEOUT_SECONDS = 300;

  // ------------------------------------------------------------ registry
  /** host:port of the registry as the engine pushes to it (image names start with it). */
  @IsString() @Matches(/^[A-Za-z0-9.-]+(:\d+)?$/, { message: 'REGISTRY_ADDR must be host[:port]' })
  REGISTRY_ADDR = '127.0.0.1:5000';

  @IsString() @Matches(/^https?:\/\/\S+$/, { message: 'REGISTRY_URL must be an http(s) URL' })
  REGISTRY_URL = 'http://127.0.0.1:5000';

  /** The `service` the registry names in its challenge; tokens carry it as their audience. */
  @IsString() @MinLength(1)
  REGISTRY_SERVICE = 'build-orchestrator-registry';

  @IsString() @MinLength(1)
  REGISTRY_TOKEN_ISSUER = 'build-orchestrator';

  /** PEM files of the token signing key and its certificate (the registry's rootcertbundle). */
  @IsString() @MinLength(1)
  REGISTRY_TOKEN_KEY = '.services/registry/token.key';

  @IsString() @MinLength(1)
  REGISTRY_TOKEN_CERT = '.services/registry/token.crt';

  @Transform(toInt) @IsInt() @Min(10) @Max(3600)
  REGISTRY_TOKEN_TTL_SECONDS = 300;

  // ------------------------------------------------------------ backends, endpoints, scheduling
  /**
   * Build backends in order of preference: `name=DOCKER_HOST[?concurrency=N]`, comma-separated.
   * Unset: one backend named EXECUTOR_BACKEND on DOCKER_HOST with EXECUTOR_CONCURRENCY slots.
   */
  @IsOptional() @IsString() @Matches(/^[a-z0-9][a-z0-9._-]{0,62}=\S+?(,[a-z0-9][a-z0-9._-]{0,62}=\S+?)*$/, { message: 'BUILD_BACKENDS must be name=unix:///path[?concurrency=N],… (lower-case names)' })
  BUILD_BACKENDS?: string;

  /** Routes to the one registry namespace, primary first: `name=host:port`, comma-separated. Unset: `primary=REGISTRY_ADDR`. */
  @IsOptional() @IsString() @Matches(/^[a-z0-9][a-z0-9._-]{0,62}=[A-Za-z0-9.-]+(:\d+)?(,[a-z0-9][a-z0-9._-]{0,62}=[A-Za-z0-9.-]+(:\d+)?)*$/, { message: 'REGISTRY_ENDPOINTS must be name=host:port,… (lower-case names)' })
  REGISTRY_ENDPOINTS?: string;

  /** Health probes of backends (engine ping) and registry endpoints (GET /v2/) give up after this long. */
  @Transform(toInt) @IsInt() @Min(50) @Max(60000)
  PROBE_TIMEOUT_MS = 2000;

  /** Plans: parallel builds, queued builds and fair-share weight of an org, unless ORG_LIMITS says otherwise. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  ORG_MAX_RUNNING = 4;

  @Transform(toInt) @IsInt() @Min(1) @Max(1000000)
  ORG_MAX_QUEUED = 500;

  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  ORG_WEIGHT = 1;

  /** Per-org overrides as JSON: {"acme":{"maxRunning":8,"maxQueued":1000,"weight":2}}. */
  @IsOptional() @IsString() @MaxLength(1024 * 1024)
  ORG_LIMITS?: string;

  /** A build that could start but has not within this long expires (BuildExpired). */
  @Transform(toInt) @IsInt() @Min(1) @Max(30 * 24 * 3600)
  QUEUE_TTL_SECONDS = 6 * 3600;

  /** Retries per build for each transient failure class: `class=N`, comma-separated; classes not named are not retried. */
  @IsString() @Matches(/^((registry-timeout|registry-unavailable|infrastructure)=\d{1,3})(,(registry-timeout|registry-unavailable|infrastructure)=\d{1,3})*$|^$/, { message: 'RETRY_LIMITS must be class=N,… with classes registry-timeout, registry-unavailable, infrastructure' })
  RETRY_LIMITS = 'registry-timeout=3,registry-unavailable=3,infrastructure=2';

  @Transform(toInt) @IsInt() @Min(1) @Max(3600 * 1000)
  RETRY_BASE_MS = 2000;

  @Transform(toInt) @IsInt() @Min(1) @Max(24 * 3600 * 1000)
  RETRY_MAX_MS = 5 * 60 * 1000;

  /** Each org may have at most this many automatic retries in any ORG_RETRY_BUDGET_WINDOW_SECONDS. */
  @Transform(toInt) @IsInt() @Min(0) @Max(1000000)
  ORG_RETRY_BUDGET = 50;

  @Transform(toInt) @IsInt() @Min(1) @Max(7 * 24 * 3600)
  ORG_RETRY_BUDGET_WINDOW_SECONDS = 600;

  /** Circuits: open when CIRCUIT_FAILURE_RATE_PERCENT of at least CIRCUIT_MIN_REQUESTS attempts in the window failed. */
  @Transform(toInt) @IsInt() @Min(1) @Max(24 * 3600)
  CIRCUIT_WINDOW_SECONDS = 120;

  @Transform(toInt) @IsInt() @Min(1) @Max(100)
  CIRCUIT_FAILURE_RATE_PERCENT = 50;

  @Transform(toInt) @IsInt() @Min(1) @Max(10000)
  CIRCUIT_MIN_REQUESTS = 4;

  /** How long an open circuit waits before probing (and half-opening on a healthy probe). */
  @Transform(toInt) @IsInt() @Min(1) @Max(24 * 3600)
  CIRCUIT_OPEN_SECONDS = 30;

  /** A running build's lease: lost when its executor's heartbeats stop for this long. */
  @Transform(toInt) @IsInt() @Min(2) @Max(3600)
  LEASE_TTL_SECONDS = 30;

  // ------------------------------------------------------------ incidents
  /**
   * The incident detector's rules: a JSON file `{ "rules": [...] }` (config/incident-rules.json holds
   * the defaults). Unset: the built-in defaults, which are what that file says.
   */
  @IsOptional() @IsString() @MinLength(1) @MaxLength(4096)
  INCIDENT_RULES_FILE?: string;

  /** Whether this orchestrator instance runs the incident detector (deterministic: running it on several instances writes each incident event once). */
  @IsIn(['true', 'false'])
  INCIDENT_DETECTOR_ENABLED = 'true';
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the variables AppConfig declares from `env` (empty strings count as unset); throws ConfigError naming each bad one. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): AppConfig => {
  const declared = Object.keys(new AppConfig()).concat('EVENTSTORE_CONNECTION_STRING', 'READ_STORE_URL', 'BUILD_BACKENDS', 'REGISTRY_ENDPOINTS', 'ORG_LIMITS', 'INCIDENT_RULES_FILE');
  const raw = Object.fromEntries(declared.filter((key) => env[key] !== undefined && env[key] !== '').map((key) => [key, env[key]]));
  const config = plainToInstance(AppConfig, raw);
  if (!config.WORK_DIR) config.WORK_DIR = join(config.DATA_DIR, 'work');
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((error) => ({
        variable: error.property,
        message: `${Object.values(error.constraints ?? {}).join('; ')} (got ${redactUrl(JSON.stringify(error.value) ?? String(error.value))})`,
      })),
    );
  }
  return Object.freeze(config);
};
