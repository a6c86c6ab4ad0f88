// What other packages' tests use of the server's test kit (`@forja/server/testing`).
export * from './server.js';
export * from './pipeline-scripts.js';
