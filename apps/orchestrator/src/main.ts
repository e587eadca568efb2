import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, createHttpApp, listen, loadConfig } from '@lib/shared';
import { OrchestratorModule } from './orchestrator.module';

const bootstrap = async (): Promise<void> => {
  const config = loadConfig();
  const app = await createHttpApp(OrchestratorModule.forRoot(config), config);
  const url = await listen(app, config.PORT, config.HOST);
  new Logger('orchestrator').log(`command API listening on ${url} (event store: ${config.EVENTSTORE_CONNECTION_STRING ? 'EventStoreDB' : `SQLite in ${config.DATA_DIR}`})`);
};

bootstrap().catch((error: unknown) => {
  // A bad configuration is the operator's to fix: print the message alone, not a stack.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
