import { LoggerService, LogLevel } from '@nestjs/common';
import { CorrelationScope } from './correlation';

export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/** One log line as the JSON logger writes it. */
export type LogRecord = {
  time: string;
  level: LogLevel;
  app: string;
  context?: string;
  message: string;
  correlationId?: string;
  stack?: string;
};

export type JsonLoggerOptions = Readonly<{
  app: string;
  /** The most verbose level written (LOG_LEVEL). */
  level: LogLevel;
  correlation: CorrelationScope;
  /** Where lines go: stdout in the apps, a buffer in tests. */
  write?: (line: string) => void;
  now?: () => Date;
}>;

const isContext = (value: unknown): value is string => typeof value === 'string';

/**
 * A Nest LoggerService writing one JSON object per line (LOG_FORMAT=json): time, level, app,
 * context, message, the correlation id of the current request or build when there is one, and
 * the stack of an error. It writes only what callers pass as messages: never headers or tokens.
 */
export class JsonLogger implements LoggerService {
  private readonly write: (line: string) => void;
  private readonly now: () => Date;
  private enabled: ReadonlySet<LogLevel>;

  constructor(private readonly options: JsonLoggerOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? (() => new Date());
    this.enabled = new Set(LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(options.level) + 1));
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.record('log', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.record('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.record('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.record('verbose', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.record('error', message, rest);
  }

  /**
   * Nest calls error(message, stack?, context?), appending the context of a named Logger; a lone
   * string is a stack when it has several lines, else a context. An Error brings its own stack.
   */
  error(message: unknown, ...rest: unknown[]): void {
    const last = rest[rest.length - 1];
    const hasContext = isContext(last) && (rest.length > 1 || !last.includes('\n'));
    const context = hasContext ? (last as string) : undefined;
    const given = hasContext ? rest.slice(0, -1) : rest;
    const stack = typeof given[0] === 'string' ? given[0] : message instanceof Error ? message.stack : undefined;
    this.emit('error', message, context, stack);
  }

  setLogLevels(levels: LogLevel[]): void {
    this.enabled = new Set(levels);
  }

  private record(level: LogLevel, message: unknown, rest: unknown[]): void {
    const context = rest.length > 0 && isContext(rest[rest.length - 1]) ? (rest[rest.length - 1] as string) : undefined;
    this.emit(level, message, context, message instanceof Error ? message.stack : undefined);
  }

  private emit(level: LogLevel, message: unknown, context: string | undefined, stack: string | undefined): void {
    if (!this.enabled.has(level)) return;
    const record: LogRecord = { time: this.now().toISOString(), level, app: this.options.app, message: textOf(message) };
    if (context) record.context = context;
    const correlationId = this.options.correlation.current();
    if (correlationId) record.correlationId = correlationId;
    if (stack) record.stack = stack;
    this.write(JSON.stringify(record));
  }
}

const textOf = (message: unknown): string => {
  if (typeof message === 'string') return message;
  if (message instanceof Error) return message.message;
  try {
    return JSON.stringify(message) ?? String(message);
  } catch {
    return String(message);
  }
};
