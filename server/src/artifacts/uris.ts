const SCHEME = 'mlflow-artifacts:/';

/** Relative store path of an `mlflow-artifacts:/…` URI, or undefined for URIs this server does not hold. */
export function storePathOf(uri: string): string | undefined {
  if (!uri.startsWith(SCHEME)) return undefined;
  return uri.slice(SCHEME.length).replace(/^\/+/, '');
}
