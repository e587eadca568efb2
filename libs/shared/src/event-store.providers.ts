import { Inject, Injectable, OnApplicationShutdown, Provider } from '@nestjs/common';
import { EVENT_STORE, EventStore, EventStoreDbEventStore, SqliteEventStore } from '@lib/event-store';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { accessProviders } from './auth/access.guard';
import { AppConfig } from './config/app-config';
import { Clock, SystemClock } from './ports/clock';
import { CryptoIdGenerator, IdGenerator } from './ports/ids';
import { UpcastingEventStore } from './upcasting-event-store';
import { Registry } from 'prom-client';
import { CorrelationScope } from './observability/correlation';
import { AppName, createMetricsRegistry } from './observability/metrics-registry';
import { appendLatencyHistogram, TimedEventStore } from './observability/timed-event-store';

export const eventsDatabasePath = (config: AppConfig): string => join(config.DATA_DIR, 'events.sqlite');

/** The adapter as configured: EventStoreDB when EVENTSTORE_CONNECTION_STRING is set, otherwise the embedded SQLite store under DATA_DIR. */
export const createRawEventStore = async (config: AppConfig): Promise<EventStore> => {
  if (config.EVENTSTORE_CONNECTION_STRING) {
    return new EventStoreDbEventStore({ connectionString: config.EVENTSTORE_CONNECTION_STRING });
  }
  mkdirSync(config.DATA_DIR, { recursive: true });
  return new SqliteEventStore({
    path: eventsDatabasePath(config),
    synchronous: config.SQLITE_SYNCHRONOUS,
    pollIntervalMs: config.STORE_POLL_INTERVAL_MS,
  });
};

/** The store the apps use: the configured adapter, with events upcast to the current schema on read. */
export const createEventStore = async (config: AppConfig): Promise<UpcastingEventStore> => new UpcastingEventStore(await createRawEventStore(config));

@Injectable()
export class EventStoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * The providers both apps share (STYLE.md rule 4), the access guard of every route among them; each root module adds only its own.
 * `app` labels the metrics of this instance's registry; its appends are timed into it.
 */
export const sharedProviders = (config: AppConfig, app: AppName): Provider[] => [
  { provide: AppConfig, useValue: config },
  { provide: Clock, useClass: SystemClock },
  { provide: IdGenerator, useClass: CryptoIdGenerator },
  { provide: Registry, useFactory: () => createMetricsRegistry(app) },
  // createHttpApp replaces this with the instance its logger reads.
  { provide: CorrelationScope, useValue: new CorrelationScope() },
  {
    provide: EVENT_STORE,
    useFactory: async (registry: Registry) => new UpcastingEventStore(new TimedEventStore(await createRawEventStore(config), appendLatencyHistogram(registry))),
    inject: [Registry],
  },
  EventStoreLifecycle,
  ...accessProviders(),
];
