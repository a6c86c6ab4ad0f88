import { parse } from 'yaml';
import type { LoggedModel as LoggedModelView, MlmodelSummary, SignatureField } from '@forja/contracts';
import { MODEL_VERSIONS_TAG, type LoggedModel } from './logged-models.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

/** A signature part as MLflow writes it in MLmodel: a JSON string holding a list of column or tensor specs. */
function fields(raw: unknown): Json[] | null {
  if (typeof raw !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter(isObject) : null;
  } catch {
    return null;
  }
}

function fieldOf(spec: Json): SignatureField {
  const tensor = spec['tensor-spec'];
  const type = isObject(tensor)
    ? `${text(tensor.dtype) ?? 'tensor'} (${Array.isArray(tensor.shape) ? tensor.shape.join(', ') : '?'})`
    : isObject(spec.type) || Array.isArray(spec.type)
      ? JSON.stringify(spec.type)
      : (text(spec.type) ?? 'unknown');
  return { name: text(spec.name), type, required: spec.required !== false };
}

/**
 * The parts of an MLmodel file a person reads: flavors, signature, input example. A file that is
 * not YAML, or not a mapping, gives nothing rather than an error: the model's files still list.
 */
export function summarizeMlmodel(source: string): MlmodelSummary | null {
  let doc: unknown;
  try {
    doc = parse(source);
  } catch {
    return null;
  }
  if (!isObject(doc)) return null;
  const flavors = isObject(doc.flavors)
    ? Object.entries(doc.flavors).map(([name, f]) => ({
        name,
        version: isObject(f) ? text(f[`${name}_version`] ?? f.pickled_model_version ?? f.python_version) : null,
      }))
    : [];
  const sig = isObject(doc.signature) ? doc.signature : null;
  const example = isObject(doc.saved_input_example_info) ? doc.saved_input_example_info : null;
  const examplePath = example ? text(example.artifact_path) : null;
  return {
    flavors,
    mlflowVersion: text(doc.mlflow_version),
    createdAt: text(doc.utc_time_created),
    sizeBytes: typeof doc.model_size_bytes === 'number' ? doc.model_size_bytes : null,
    signature: sig
      ? {
          inputs: fields(sig.inputs)?.map(fieldOf) ?? null,
          outputs: fields(sig.outputs)?.map(fieldOf) ?? null,
          params:
            fields(sig.params)?.map((p) => ({ ...fieldOf(p), required: false, default: p.default === undefined ? null : JSON.stringify(p.default) })) ?? null,
        }
      : null,
    inputExample: example && examplePath ? { path: examplePath, type: text(example.type), format: text(example.pandas_orient ?? example.format) } : null,
  };
}

/** The {name, version} entries of the mlflow.modelVersions tag; a value that is not such a list gives none. */
function registeredVersions(model: LoggedModel): { name: string; version: string }[] {
  const tag = model.tags.find((t) => t.key === MODEL_VERSIONS_TAG)?.value;
  if (!tag) return [];
  try {
    const list: unknown = JSON.parse(tag);
    if (!Array.isArray(list)) return [];
    // Clients write the version as a number, the server as a string: one entry each, whatever the spelling.
    const seen = new Set<string>();
    return list.filter(isObject).flatMap((e) => {
      const name = text(e.name);
      const version = text(e.version);
      if (!name || !version || seen.has(`${name}\0${version}`)) return [];
      seen.add(`${name}\0${version}`);
      return [{ name, version }];
    });
  } catch {
    return [];
  }
}

export function loggedModelView(model: LoggedModel, mlmodel: MlmodelSummary | null): LoggedModelView {
  const r = model.row;
  return {
    modelId: r.id,
    name: r.name,
    experimentId: r.experiment_id,
    sourceRunId: r.source_run_id,
    modelType: r.model_type,
    status: r.status,
    artifactUri: r.artifact_uri,
    creatorId: r.creator_id,
    creationTime: Number(r.creation_time),
    lastUpdatedTime: Number(r.last_updated_time),
    tags: model.tags,
    params: model.params,
    registeredVersions: registeredVersions(model),
    mlmodel,
  };
}
