import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AppConfig, sharedProviders } from '@lib/shared';
import { BuildsController } from './builds/builds.controller';
import { CancelBuildHandler } from './builds/cancel-build.handler';
import { QueueBuildHandler } from './builds/queue-build.handler';
import { HealthController } from './health.controller';

/** The command side: accepts build commands and appends their events. */
@Module({})
export class OrchestratorModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: OrchestratorModule,
      imports: [CqrsModule.forRoot()],
      controllers: [BuildsController, HealthController],
      providers: [...sharedProviders(config), QueueBuildHandler, CancelBuildHandler],
    };
  }
}
