export { ForjaClient, ArtifactListSchema, type ArtifactFile, type ArtifactList, type ClientOptions, type RunUpdate } from './client.js';
export * from './errors.js';
