// The attacks a malicious scorer, pipeline step, batch script or training script tries, shared by the
// security tests. Each attempt reports from inside whether it got through; the tests also check from
// outside (files written, processes left behind, the other group's data still there).

export interface Targets {
  /** The server's data directory, with its database, secret key and every group's files. */
  dataDir: string;
  secretKey: string;
  /** The SQLite database, or '' on PostgreSQL. */
  database: string;
  /** An artifact of another group, by its path on disk. */
  otherGroupArtifact: string;
  /** A secret of another group's deployment, living in its worker's environment. */
  otherDeploymentSecret: string;
  adminToken: string;
  serverPort: number;
  /** The server's process id on the host. */
  serverPid: number;
  /** The command line of the process the attack leaves behind, looked for on the host afterwards. */
  survivor: string;
}

export interface Attempt {
  escaped: boolean;
  detail: string;
}

/** The attacks' names, each of which must come back with escaped = false. */
export const ATTACKS = [
  'list_data_dir',
  'read_secret_key',
  'read_database',
  'read_other_group_artifact',
  'read_proc_environ',
  'see_server_process',
  'write_outside_folder',
  'socket_to_server',
  'signal_other_processes',
] as const;

/**
 * Python source defining `probe(name) -> dict` against the given targets; `print_report(name)` prints
 * it as one line `FORJA-PROBE <json>`. It also starts a process meant to outlive its job.
 */
export function probeSource(t: Targets): string {
  return `
import glob, json, os, signal, socket, subprocess, sys

TARGETS = json.loads(${JSON.stringify(JSON.stringify(t))})


def probe(name):
    t = TARGETS
    report = {}

    def attempt(key, fn):
        try:
            out = fn()
            report[key] = {"escaped": bool(out), "detail": str(out)[:300]}
        except Exception as e:
            report[key] = {"escaped": False, "detail": "%s: %s" % (type(e).__name__, str(e)[:300])}

    # The sandbox may show the data directory as a skeleton of its own mount points; its real contents
    # (the secret key, the database, the artifacts) are what must not be there.
    attempt("list_data_dir", lambda: [f for f in os.listdir(t["dataDir"]) if f in ("secret.key", "forja.db", "artifacts", "lake")])
    attempt("read_secret_key", lambda: open(t["secretKey"], "rb").read(8))
    attempt("read_database", lambda: open(t["database"], "rb").read(16) if t["database"] else None)
    attempt("read_other_group_artifact", lambda: open(t["otherGroupArtifact"]).read())

    def environs():
        found = []
        for p in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline"):
            try:
                data = open(p, "rb").read()
            except Exception:
                continue
            for needle in (t["adminToken"], t["otherDeploymentSecret"], "FORJA_ADMIN"):
                if needle.encode() in data:
                    found.append("%s has %s" % (p, needle[:10]))
        return found

    attempt("read_proc_environ", environs)

    def server_process():
        seen = []
        for p in glob.glob("/proc/[0-9]*/cmdline"):
            try:
                if b"node" in open(p, "rb").read():
                    seen.append(p)
            except Exception:
                pass
        return seen

    attempt("see_server_process", server_process)

    def write_out():
        written = []
        for path in (os.path.join(t["dataDir"], "pwned-" + name), os.path.join(sys.prefix, "pwned-" + name), "/usr/pwned-" + name):
            try:
                with open(path, "w") as f:
                    f.write("pwned")
                written.append(path)
            except Exception:
                pass
        return written

    attempt("write_outside_folder", write_out)

    def connect():
        s = socket.create_connection(("127.0.0.1", t["serverPort"]), timeout=3)
        s.close()
        return "connected to the server's port"

    attempt("socket_to_server", connect)

    def signal_others():
        # The server's process, by its host pid: reachable only without a PID namespace of its own.
        os.kill(t["serverPid"], 0)
        return "may signal the server (pid %d)" % t["serverPid"]

    attempt("signal_other_processes", signal_others)
    # A process that leaves its session, meant to live on after the job or deployment ends.
    subprocess.Popen(["/bin/sh", "-c", "t=%s; setsid sleep $t >/dev/null 2>&1 < /dev/null &" % t["survivor"]])
    return report


def print_report(name):
    print("FORJA-PROBE " + json.dumps(probe(name)), flush=True)
`;
}

/** The report a probe printed into a log, or undefined. */
export function reportIn(lines: string[]): Record<string, Attempt> | undefined {
  const line = lines.find((l) => l.startsWith('FORJA-PROBE '));
  return line ? (JSON.parse(line.slice('FORJA-PROBE '.length)) as Record<string, Attempt>) : undefined;
}
