import type { FastifyReply } from 'fastify';
import { PROBLEM_MEDIA_TYPE } from '../http/openapi';
import { problemType } from '../http/problem';
import { ContextualRequest } from '../http/request-context';
import { ReadinessReport } from './readiness';

/** A report that is not ready, as the problem+json every error of the API is, with the checks as extensions. */
export type NotReadyProblem = Readonly<{
  type: string;
  title: string;
  status: 503;
  detail: string;
  instance: string;
  correlationId: string;
  app: string;
  failed: string[];
  checks: ReadinessReport['checks'];
}>;

/** GET /health/ready's answer: the report with 200 when ready, else a 503 problem naming what failed. */
export const answerReadiness = (report: ReadinessReport, request: ContextualRequest, reply: FastifyReply): ReadinessReport | NotReadyProblem => {
  if (report.status === 'ready') return report;
  void reply.status(503).header('content-type', `${PROBLEM_MEDIA_TYPE}; charset=utf-8`);
  return {
    type: problemType('not-ready'),
    title: 'Service unavailable',
    status: 503,
    detail: `${report.app} is not ready: ${report.failed.join(', ')} did not answer`,
    instance: request.url.split('?')[0],
    correlationId: request.correlationId ?? String(request.id),
    app: report.app,
    failed: report.failed,
    checks: report.checks,
  };
};
