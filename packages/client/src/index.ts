export { ForjaClient, type ClientOptions, type RunUpdate } from './client.js';
export { ArtifactListSchema, type ArtifactFile, type ArtifactList } from '@forja/contracts';
export * from './errors.js';
