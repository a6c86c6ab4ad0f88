const SCHEME = 'mlflow-artifacts:/';

/** Relative store path of an `mlflow-artifacts:/…` URI, or undefined for URIs this server does not hold. */
export function storePathOf(uri: string): string | undefined {
  if (!uri.startsWith(SCHEME)) return undefined;
  return uri.slice(SCHEME.length).replace(/^\/+/, '');
}

/** The location Forja gives an experiment: its own folder, named by its id. */
export const experimentLocation = (experimentId: string): string => `${SCHEME}${experimentId}`;

/** The artifact root of a run: a folder of its own inside its experiment's location. */
export const runArtifactUri = (experimentLocation: string, runId: string): string => `${experimentLocation.replace(/\/+$/, '')}/${runId}/artifacts`;

/**
 * The folder an experiment may delete with itself: the one Forja assigned to it, and nothing else
 * (rows from before locations were assigned may point anywhere, such as another group's folder).
 */
export function ownedExperimentFolder(row: { id: string; artifact_location: string }): string | undefined {
  return row.artifact_location === experimentLocation(row.id) ? row.id : undefined;
}

/** The folder a run may delete with itself: `<experiment>/<run>`, if that is where Forja put its artifacts. */
export function ownedRunFolder(row: { id: string; experiment_id: string; artifact_uri: string }): string | undefined {
  return row.artifact_uri === runArtifactUri(experimentLocation(row.experiment_id), row.id) ? `${row.experiment_id}/${row.id}` : undefined;
}
