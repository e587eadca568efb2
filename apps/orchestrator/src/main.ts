import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, createHttpApp, createOpenApiDocument, listen, loadConfig, serveOpenApi } from '@lib/shared';
import { allowDashboardToReadLogs } from './logs/dashboard-cors';
import { OrchestratorModule } from './orchestrator.module';
import { ORCHESTRATOR_API } from './orchestrator.openapi';

const bootstrap = async (): Promise<void> => {
  const config = loadConfig();
  const rootModule = OrchestratorModule.forRoot(config);
  const app = await createHttpApp(rootModule, config);
  serveOpenApi(app, createOpenApiDocument(app, rootModule.controllers ?? [], ORCHESTRATOR_API));
  allowDashboardToReadLogs(app, config);
  const url = await listen(app, config.PORT, config.HOST);
  new Logger('orchestrator').log(`command API listening on ${url} (event store: ${config.EVENTSTORE_CONNECTION_STRING ? 'EventStoreDB' : `SQLite in ${config.DATA_DIR}`})`);
};

bootstrap().catch((error: unknown) => {
  // A bad configuration is the operator's to fix: print the message alone, not a stack.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
