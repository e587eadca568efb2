import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, createHttpApp, listen, loadConfig } from '@lib/shared';
import { ProjectorModule } from './projector.module';

const bootstrap = async (): Promise<void> => {
  const config = loadConfig();
  const app = await createHttpApp(ProjectorModule.forRoot(config), config);
  const url = await listen(app, config.PROJECTOR_PORT, config.HOST);
  new Logger('projector').log(`query API listening on ${url}`);
};

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
