export * from './correlation';
export * from './json-logger';
export * from './metrics-registry';
export * from './timed-event-store';
export * from './readiness';
export * from './metrics.controller';
export * from './readiness-answer';
export * from './operations.openapi';
