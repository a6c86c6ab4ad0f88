export { ForjaClient, type ClientOptions, type MlflowFormat, type RunUpdate } from './client.js';
export { ArtifactListSchema, type ArtifactFile, type ArtifactList } from '@forja/contracts';
export * from './errors.js';
