export * from './api-tokens';
export * from './auth.errors';
export * from './token-verifier';
export * from './rate-limiter';
export * from './access.guard';
