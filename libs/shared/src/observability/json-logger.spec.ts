import { Logger } from '@nestjs/common';
import { CorrelationScope } from './correlation';
import { JsonLogger, LogRecord } from './json-logger';

const NOW = new Date('2026-11-16T09:00:00.000Z');

const loggerWith = (level: 'log' | 'debug' = 'log') => {
  const lines: string[] = [];
  const correlation = new CorrelationScope();
  const logger = new JsonLogger({ app: 'orchestrator', level, correlation, write: (line) => lines.push(line), now: () => NOW });
  const records = (): LogRecord[] => lines.map((line) => JSON.parse(line) as LogRecord);
  return { logger, correlation, lines, records };
};

describe('JsonLogger: one JSON object per line', () => {
  it('writes time, level, app, context and message, and nothing else outside a correlated scope', () => {
    const { logger, records } = loggerWith();
    logger.log('command API listening on http://127.0.0.1:3000 (event store: SQLite in ./data)', 'orchestrator');
    expect(records()).toEqual([
      { time: '2026-11-16T09:00:00.000Z', level: 'log', app: 'orchestrator', context: 'orchestrator', message: 'command API listening on http://127.0.0.1:3000 (event store: SQLite in ./data)' },
    ]);
  });

  it('keeps the URL of the start line readable as test/support/apps.ts reads it (up to the first space)', () => {
    const { logger, lines } = loggerWith();
    logger.log('query API listening on http://127.0.0.1:40123 (read store: SQLite in /tmp/x)', 'projector');
    expect(/listening on (http:\/\/[^\s]+)/.exec(lines[0])?.[1]).toBe('http://127.0.0.1:40123');
  });

  it('adds the correlation id of the scope it runs in, across awaits', async () => {
    const { logger, correlation, records } = loggerWith();
    await correlation.run('req-42', async () => {
      await Promise.resolve();
      logger.warn('slow', 'http');
    });
    logger.log('outside', 'http');
    expect(records().map(({ message, correlationId }) => ({ message, correlationId }))).toEqual([
      { message: 'slow', correlationId: 'req-42' },
      { message: 'outside', correlationId: undefined },
    ]);
  });

  it('writes an error with its stack and context as Nest passes them, and an Error message with its own stack', () => {
    const { logger, records } = loggerWith();
    logger.error('build failed', 'Error: boom\n    at somewhere', 'executor');
    const error = new Error('kaput');
    logger.error(error);
    logger.error('only a context', 'executor');
    const [first, second, third] = records();
    expect(first).toMatchObject({ level: 'error', message: 'build failed', stack: 'Error: boom\n    at somewhere', context: 'executor' });
    expect(second).toMatchObject({ level: 'error', message: 'kaput', stack: error.stack });
    expect(third).toEqual({ time: NOW.toISOString(), level: 'error', app: 'orchestrator', message: 'only a context', context: 'executor' });
  });

  it('writes only the levels LOG_LEVEL lets through', () => {
    const { logger, records } = loggerWith('log');
    logger.debug('hidden', 'x');
    logger.verbose('hidden', 'x');
    logger.log('shown', 'x');
    expect(records().map((record) => record.message)).toEqual(['shown']);
    const debug = loggerWith('debug');
    debug.logger.debug('shown', 'x');
    expect(debug.records()).toHaveLength(1);
  });

  it('serves Nest Logger instances once it is the app logger, each line one JSON object', () => {
    const { logger, correlation, lines } = loggerWith();
    Logger.overrideLogger(logger);
    try {
      correlation.run('build-7', () => new Logger('executor').log('started'));
    } finally {
      Logger.overrideLogger(true);
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ context: 'executor', message: 'started', correlationId: 'build-7' });
  });
});
