import { Controller, Get, Header } from '@nestjs/common';
import { Registry } from 'prom-client';
import { Permit } from '../auth/access.guard';
import { ApiMetrics } from './operations.openapi';

/**
 * Prometheus exposition of this app's registry. Series carry org names, so scraping needs
 * operations:read (a bearer token of an sre or auditor principal), like GET /projections.
 */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get()
  @Permit('operations:read')
  @ApiMetrics()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('cache-control', 'no-store')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
