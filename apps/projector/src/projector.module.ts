import { DynamicModule, Module, Type } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AppConfig, sharedProviders } from '@lib/shared';
import { auditProviders } from './audit/audit-queries';
import { AuditController } from './audit/audit.controller';
import { GetBuildHandler, GetBuildHistoryHandler, ListBuildsHandler } from './builds/build-queries';
import { BuildsController } from './builds/builds.controller';
import { HealthController } from './health.controller';
import { incidentControllers, incidentProviders } from './incidents/incidents';
import { ProjectionsController } from './projections/projections.controller';
import { projectorProviders } from './projector.providers';
import { CatchUp } from './runner/catch-up.service';
import { viewControllers, viewProviders } from './views/views';

/** Every controller of the projector (each of its routes declares who may call it: access/route-access.spec.ts). */
export const projectorControllers: Type[] = [BuildsController, ProjectionsController, HealthController, ...viewControllers, AuditController, ...incidentControllers];

/** The query side: runs the projections and serves the read models. */
@Module({})
export class ProjectorModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [CqrsModule.forRoot()],
      controllers: projectorControllers,
      providers: [...sharedProviders(config), ...projectorProviders(config), CatchUp, GetBuildHandler, ListBuildsHandler, GetBuildHistoryHandler, ...viewProviders, ...auditProviders, ...incidentProviders],
    };
  }
}
