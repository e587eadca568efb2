import { DynamicModule, INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../config/app-config';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ContextualRequest, CORRELATION_HEADER, CORRELATION_ID_PATTERN } from './request-context';
import { createValidationPipe } from './validation';

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

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
  const app = await NestFactory.create<NestFastifyApplication>(rootModule, adapter, {
    logger: LEVELS.slice(0, LEVELS.indexOf(config.LOG_LEVEL) + 1),
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
