import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AppConfig, MetricsController, sharedProviders, topologyFrom } from '@lib/shared';
import { principalControllers, principalProviders } from './access/access.providers';
import { BuildsController } from './builds/builds.controller';
import { BuildOperatorHandler } from './builds/build-operator.handler';
import { QueueBuildHandler } from './builds/queue-build.handler';
import { executorControllers, executorProviders, logProviders } from './executor/executor.providers';
import { HealthController } from './health.controller';
import { DrainRouteHandler } from './routes/drain-route.handler';
import { RoutesController } from './routes/routes.controller';
import { ClusterViewService, TOPOLOGY } from './scheduling/cluster-view.service';
import { BuildLogsController } from './logs/build-logs.controller';
import { IncidentOperatorHandler } from './incidents/incident-commands.handler';
import { INCIDENT_DETECTOR_ENABLED, INCIDENT_RULES, IncidentDetectorService } from './incidents/incident-detector.service';
import { loadIncidentRules } from './incidents/incident-rules.loader';
import { IncidentsController } from './incidents/incidents.controller';
import { OrchestratorMetrics } from './operations/orchestrator-metrics';
import { OrchestratorReadiness } from './operations/orchestrator-readiness';

/** The command side: accepts build commands and appends their events; with the executor, also runs them. */
@Module({})
export class OrchestratorModule {
  static forRoot(config: AppConfig): DynamicModule {
    const executor = config.EXECUTOR_ENABLED === 'true';
    const topology = topologyFrom(config);
    return {
      module: OrchestratorModule,
      imports: [CqrsModule.forRoot()],
      controllers: [BuildsController, BuildLogsController, HealthController, MetricsController, RoutesController, IncidentsController, ...principalControllers, ...(executor ? executorControllers : [])],
      providers: [
        ...sharedProviders(config, 'orchestrator'),
        { provide: TOPOLOGY, useValue: topology },
        ClusterViewService,
        OrchestratorMetrics,
        OrchestratorReadiness,
        ...logProviders(config),
        ...(executor ? executorProviders(config) : []),
        QueueBuildHandler,
        BuildOperatorHandler,
        DrainRouteHandler,
        { provide: INCIDENT_RULES, useValue: loadIncidentRules(config) },
        { provide: INCIDENT_DETECTOR_ENABLED, useValue: config.INCIDENT_DETECTOR_ENABLED === 'true' },
        IncidentDetectorService,
        IncidentOperatorHandler,
        ...principalProviders,
      ],
    };
  }
}
