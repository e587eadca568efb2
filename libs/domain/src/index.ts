export * from './event';
export * from './errors';
export * from './build.events';
export * from './build.commands';
export * from './build.state';
export * from './build.decider';
export * from './build.stream';
