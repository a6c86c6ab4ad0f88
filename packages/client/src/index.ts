export { ForjaClient, type ClientOptions } from './client.js';
export * from './errors.js';
