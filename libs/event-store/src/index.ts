export * from './event-store.port';
export * from './errors';
export * from './validation';
export * from './sqlite/sqlite-event-store';
export * from './sqlite/sqlite-schema';
export * from './eventstoredb/eventstoredb-event-store';
export * from './forwarding-event-store';
export * from './worker-script';
