import { ConsoleLogger, DynamicModule, INestApplication, Logger, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../config/app-config';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ContextualRequest, CORRELATION_HEADER, CORRELATION_ID_PATTERN } from './request-context';
import { createValidationPipe } from './validation';
import { CorrelationScope } from '../observability/correlation';
import { JsonLogger, LOG_LEVELS } from '../observability/json-logger';

/** The app's logger as LOG_FORMAT and LOG_LEVEL say: JSON lines (with correlation ids) or Nest's console text. */
export const createAppLogger = (config: AppConfig, app: string, correlation: CorrelationScope): LoggerService => {
  if (config.LOG_FORMAT === 'json') return new JsonLogger({ app, level: config.LOG_LEVEL, correlation });
  return new ConsoleLogger(app, { logLevels: LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(config.LOG_LEVEL as LogLevel) + 1) });
};

/** 'OrchestratorModule' → 'orchestrator': the app name in log lines. */
const appNameOf = (rootModule: DynamicModule): string => rootModule.module.name.replace(/Module$/, '').toLowerCase();

/** Builds a Nest app on Fastify with what both apps share: limits, problem details, validation, correlation ids. */
export const createHttpApp = async (rootModule: DynamicModule, config: AppConfig): Promise<NestFastifyApplication> => {
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: 256 },
    genReqId: () => randomUUID(),
    // Refuse oversized headers early rather than let them reach handlers.
    http: { maxHeaderSize: 16 * 1024 },
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const given = request.headers[CORRELATION_HEADER];
    const correlationId = typeof given === 'string' && CORRELATION_ID_PATTERN.test(given) ? given : String(request.id);
    (request as ContextualRequest).correlationId = correlationId;
    void reply.header(CORRELATION_HEADER, correlationId);
  });
  // Only JSON bodies are accepted; anything else is a 415 rather than a string handed to validation.
  fastify.removeContentTypeParser('text/plain');
  // The rest of the request (guards, handler, the commands it sends) runs under its correlation id.
  const correlation = new CorrelationScope();
  fastify.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    correlation.run((request as ContextualRequest).correlationId ?? String(request.id), done);
  });
  const requests = new Logger('http');
  // Method, path without its query string, status and time: never headers, never tokens.
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0];
    correlation.run((request as ContextualRequest).correlationId ?? String(request.id), () =>
      requests.debug(`${request.method} ${path} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms`),
    );
  });
  const withCorrelation: DynamicModule = { ...rootModule, providers: [...(rootModule.providers ?? []), { provide: CorrelationScope, useValue: correlation }] };
  const app = await NestFactory.create<NestFastifyApplication>(withCorrelation, adapter, {
    logger: createAppLogger(config, appNameOf(rootModule), correlation),
    abortOnError: false,
  });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.enableShutdownHooks();
  return app;
};

export const listen = async (app: INestApplication, port: number, host: string): Promise<string> => {
  await app.listen(port, host);
  return app.getUrl();
};
