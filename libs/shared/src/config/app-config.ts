import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, validateSync } from 'class-validator';

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

  /** FULL: an acknowledged append is on disk (fsync per group commit). NORMAL: survives a crash of the process only. */
  @IsIn(['FULL', 'NORMAL'])
  SQLITE_SYNCHRONOUS: 'FULL' | 'NORMAL' = 'FULL';

  @Transform(toInt) @IsInt() @Min(1024) @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 64 * 1024;

  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  @Transform(toInt) @IsInt() @Min(1) @Max(100000)
  PROJECTOR_BATCH_SIZE = 1000;

  @Transform(toInt) @IsInt() @Min(1) @Max(10000)
  STORE_POLL_INTERVAL_MS = 20;
}

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the variables AppConfig declares from `env` (empty strings count as unset); throws ConfigError naming each bad one. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): AppConfig => {
  const declared = Object.keys(new AppConfig()).concat('EVENTSTORE_CONNECTION_STRING');
  const raw = Object.fromEntries(declared.filter((key) => env[key] !== undefined && env[key] !== '').map((key) => [key, env[key]]));
  const config = plainToInstance(AppConfig, raw);
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new ConfigError(
      errors.map((error) => ({
        variable: error.property,
        message: `${Object.values(error.constraints ?? {}).join('; ')} (got ${JSON.stringify(error.value)})`,
      })),
    );
  }
  return Object.freeze(config);
};
