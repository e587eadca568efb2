import { DynamicModule, Module, Type } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AppConfig, MetricsController, sharedProviders } from '@lib/shared';
import { auditProviders } from './audit/audit-queries';
import { AuditController } from './audit/audit.controller';
import { GetBuildHandler, GetBuildHistoryHandler, ListBuildsHandler } from './builds/build-queries';
import { BuildsController } from './builds/builds.controller';
import { DashboardController } from './dashboard/dashboard.controller';
import { HealthController } from './health.controller';
import { ProjectorMetrics } from './operations/projector-metrics';
import { ProjectorReadiness } from './operations/projector-readiness';
import { incidentControllers, incidentProviders } from './incidents/incidents';
import { ProjectionsController } from './projections/projections.controller';
import { projectorProviders } from './projector.providers';
import { CatchUp } from './runner/catch-up.service';
import { viewControllers, viewProviders } from './views/views';

/** Every controller of the projector (each of its routes declares who may call it: access/route-access.spec.ts). */
export const projectorControllers: Type[] = [BuildsController, ProjectionsController, HealthController, MetricsController, ...viewControllers, AuditController, ...incidentControllers, DashboardController];

/** The query side: runs the projections and serves the read models. */
@Module({})
export class ProjectorModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [CqrsModule.forRoot()],
      controllers: projectorControllers,
      providers: [...sharedProviders(config, 'projector'), ...projectorProviders(config), ProjectorMetrics, ProjectorReadiness, CatchUp, GetBuildHandler, ListBuildsHandler, GetBuildHistoryHandler, ...viewProviders, ...auditProviders, ...incidentProviders],
    };
  }
}
