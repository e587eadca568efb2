import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, createHttpApp, createOpenApiDocument, listen, loadConfig, serveOpenApi } from '@lib/shared';
import { ProjectorModule } from './projector.module';
import { PROJECTOR_API } from './projector.openapi';

const bootstrap = async (): Promise<void> => {
  const config = loadConfig();
  const rootModule = ProjectorModule.forRoot(config);
  const app = await createHttpApp(rootModule, config);
  serveOpenApi(app, createOpenApiDocument(app, rootModule.controllers ?? [], PROJECTOR_API));
  const url = await listen(app, config.PROJECTOR_PORT, config.HOST);
  // Something follows the URL, so that it ends at a space in JSON log lines too (test/support/apps.ts reads it up to one).
  new Logger('projector').log(`query API listening on ${url} (read store: ${config.READ_STORE_URL ? 'PostgreSQL' : `SQLite in ${config.DATA_DIR}`})`);
};

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
