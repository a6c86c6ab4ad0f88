export * from './errors.js';
export * from './common.js';
export * from './auth.js';
export * from './system.js';
export * from './tracking.js';
export * from './registry.js';
export * from './jobs.js';
export * from './webhooks.js';
