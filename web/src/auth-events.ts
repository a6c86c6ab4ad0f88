/** Fired when the server answers 401 to a request that carried our token. */
export const UNAUTHENTICATED_EVENT = 'forja:unauthenticated';
