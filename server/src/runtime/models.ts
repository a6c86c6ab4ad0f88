import { spawn } from 'node:child_process';
import { toolEnvironment } from './sandbox.js';
import { fileURLToPath } from 'node:url';

/** Files a "pickle" model can be. */
export const PICKLE_FILE = /\.(pkl|pickle|joblib)$/i;

const SCANNER = fileURLToPath(new URL('../../runtime/forja_scan.py', import.meta.url));

/**
 * The requirements of an environment that loads a registered model: pyfunc needs mlflow itself,
 * the model's own requirements.txt pins the rest, and callers add what their runner imports.
 * The same inputs give the same text, so deployments and lake scoring of one model share an environment.
 */
export function modelRequirements(kind: 'pyfunc' | 'pickle', modelRequirementsText: string, extra = ''): string {
  return [kind === 'pyfunc' && !/^mlflow\b/m.test(modelRequirementsText) ? 'mlflow' : '', modelRequirementsText, extra].filter(Boolean).join('\n');
}

export interface Finding {
  level: 'warning' | 'error';
  file: string;
  line: number | null;
  message: string;
}

/** What every report of the scan says about its verdict. */
export const SCAN_ADVISORY = 'The safety scan is advisory: a static check cannot prove a file harmless, and the sandbox the model runs in is what contains it.';

/**
 * Runs the static scan with the server's python3 (stdlib only: nothing scanned is imported). Args
 * are source:<path>, pickle:<path> (a pickled model: only allow-listed globals), code-pickle:<path>
 * (a pickle in a model that is code by design: unlisted globals are warnings) and allow:<module>
 * for modules a pickle may import besides the allow-list (the deployment's own .py files).
 */
export function safetyScan(args: string[]): Promise<Finding[]> {
  if (args.length === 0) return Promise.resolve([]);
  return new Promise((resolve) => {
    // It only parses (pickletools, ast): it runs no user code, outside the sandbox, without the server's secrets.
    const child = spawn('python3', [SCANNER, ...args], { env: toolEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', () => resolve([]));
    child.on('close', () => {
      try {
        resolve((JSON.parse(out) as { findings: Finding[] }).findings);
      } catch {
        resolve([]);
      }
    });
  });
}
