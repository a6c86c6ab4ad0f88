export { loadConfig, ConfigError, type Config, type ConfigOverrides } from './config.js';
export { startServer, type RunningServer } from './server.js';
export { VERSION } from './version.js';
export { startWorker, type RunningWorker } from './worker.js';
