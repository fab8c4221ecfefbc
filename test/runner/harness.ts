/**
 * Real components for the runner's integration tests, on 127.0.0.1 only: a throwaway PostgreSQL
 * cluster (initdb in a temp dir, run as the `postgres` OS user when the tests run as root, because
 * PostgreSQL refuses root), and a NAS made of two `rclone serve restic` instances on one directory
 * (one --append-only for backups, one full access for maintenance) with htpasswd users.
 */
import { randomBytes } from "node:crypto";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
    accessSync,
    chmodSync,
    chownSync,
    constants,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    rmSync,
    writeFileSync,
} from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isQuickKeyFile, type KeyFile } from "../../runner/src/keyFile";

export const repoRoot = resolve(__dirname, "../..");
export const cliPath = join(repoRoot, "runner/src/cli.ts");

function which(name: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(":")) {
        const p = join(dir, name);
        try {
            accessSync(p, constants.X_OK);
            return p;
        } catch {
            // next
        }
    }
    return undefined;
}

/** The newest PostgreSQL server installation (Debian layout). */
export function postgresBinDir(): string | undefined {
    const root = "/usr/lib/postgresql";
    if (!existsSync(root)) return undefined;
    const versions = readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin/initdb")))
        .sort((a, b) => Number(b) - Number(a));
    return versions[0] ? join(root, versions[0], "bin") : undefined;
}

/** Fails with what to install when a real component is missing. */
export function requireTools(): void {
    const missing: string[] = [];
    if (!which("restic")) missing.push("restic (0.14)");
    if (!which("rclone")) missing.push("rclone");
    if (!which("htpasswd")) missing.push("htpasswd (apache2-utils)");
    if (!postgresBinDir()) missing.push("PostgreSQL server (postgresql, /usr/lib/postgresql/<version>/bin)");
    if (missing.length) {
        throw new Error(
            `The runner's integration tests need real components, missing: ${missing.join(", ")}.\n` +
                "Install them: sudo apt-get install -y postgresql postgresql-client restic rclone apache2-utils (.ci/run does this).",
        );
    }
}

export async function freePort(): Promise<number> {
    return new Promise((resolvePort, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
        });
    });
}

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const ok = await new Promise<boolean>((r) => {
            const s = connect(port, "127.0.0.1");
            s.once("connect", () => {
                s.destroy();
                r(true);
            });
            s.once("error", () => r(false));
        });
        if (ok) return;
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

const isRoot = process.getuid?.() === 0;

function postgresUser(): { uid: number; gid: number } | undefined {
    if (!isRoot) return undefined;
    const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    if (id.status !== 0)
        throw new Error(
            "running as root, but there is no `postgres` OS user to run PostgreSQL as (install the postgresql package)",
        );
    return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function runAsPostgres(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const argv = isRoot ? (["runuser", ["-u", "postgres", "--", cmd, ...args]] as const) : ([cmd, args] as const);
    const r = spawnSync(argv[0], argv[1], { encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Postgres {
    readonly binDir: string;
    readonly port: number;
    readonly user: string;
    readonly password: string;
    /** libpq environment for clients (the runner). */
    readonly env: Record<string, string>;
    /** Runs SQL with psql; returns stdout (unaligned, tuples only). Throws on error. */
    sql(database: string, sql: string): string;
    stop(): void;
    start(): void;
    cleanup(): void;
}

/** initdb + pg_ctl start of a throwaway cluster; password authentication, TCP on 127.0.0.1 only. */
export async function startPostgres(): Promise<Postgres> {
    const binDir = postgresBinDir()!;
    const dir = mkdtempSync(join(tmpdir(), "nas-backup-pg-"));
    const owner = postgresUser();
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const password = `pg-secret-${Math.random().toString(36).slice(2)}`;
    const pwfile = join(dir, "pwfile");
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (owner) chownSync(pwfile, owner.uid, owner.gid);
    const data = join(dir, "data");
    const init = runAsPostgres(join(binDir, "initdb"), [
        "-D",
        data,
        "-U",
        "postgres",
        "-A",
        "scram-sha-256",
        `--pwfile=${pwfile}`,
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    ]);
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50`;
    const start = (): void => {
        const r = runAsPostgres(join(binDir, "pg_ctl"), [
            "-D",
            data,
            "-o",
            options,
            "-l",
            join(dir, "log"),
            "-w",
            "-t",
            "60",
            "start",
        ]);
        if (r.status !== 0) throw new Error(`pg_ctl start failed: ${r.stderr}${r.stdout}`);
    };
    const stop = (): void => {
        runAsPostgres(join(binDir, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
    };
    start();
    const env = {
        PGHOST: "127.0.0.1",
        PGPORT: String(port),
        PGUSER: "postgres",
        PGPASSWORD: password,
        NAS_BACKUP_PG_BIN_DIR: binDir,
    };
    return {
        binDir,
        port,
        user: "postgres",
        password,
        env,
        sql(database, sql) {
            const r = spawnSync(
                join(binDir, "psql"),
                ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database],
                {
                    input: sql,
                    encoding: "utf8",
                    env: { ...process.env, ...env, PGCLIENTENCODING: "UTF8" },
                },
            );
            if (r.status !== 0) throw new Error(`psql ${database}: ${r.stderr}`);
            return r.stdout.trim();
        },
        stop,
        start,
        cleanup() {
            stop();
            rmSync(dir, { recursive: true, force: true });
        },
    };
}

export interface Nas {
    /** Directory the REST servers store the repositories in. */
    readonly dir: string;
    /** Append-only endpoint (backups). */
    readonly backupBase: string;
    /** Full-access endpoint (prune, purge). */
    readonly maintenanceBase: string;
    readonly backupPassword: string;
    readonly maintenancePassword: string;
    readonly resticPassword: string;
    /** Environment for the runner: NAS, credentials (as files), repository key, cache. */
    readonly env: Record<string, string>;
    /** Environment for calling restic directly on a target's repository. */
    resticEnv(target: string, role: "backup" | "maintenance"): Record<string, string>;
    /** Another append-only endpoint on the same store, throttled to `bwlimit` (rclone syntax, e.g. "2M"). */
    startSlowBackupEndpoint(bwlimit: string): Promise<string>;
    /** Another append-only endpoint on the same store, over https with this certificate and key. */
    startTlsBackupEndpoint(cert: string, key: string): Promise<string>;
    stopBackupEndpoint(): Promise<void>;
    startBackupEndpoint(): Promise<void>;
    /** Kills (SIGKILL) an endpoint started by startSlowBackupEndpoint: a NAS that disappears. */
    killEndpoint(base: string): void;
    cleanup(): Promise<void>;
}

function startRclone(args: string[]): ChildProcess {
    return spawn("rclone", ["serve", "restic", "--config", "/dev/null", ...args], {
        stdio: ["ignore", "ignore", "pipe"],
    });
}

export async function startNas(): Promise<Nas> {
    const dir = mkdtempSync(join(tmpdir(), "nas-backup-nas-"));
    const store = join(dir, "store");
    const secrets = join(dir, "secrets");
    mkdirSync(store);
    mkdirSync(secrets, { mode: 0o755 });
    const backupPassword = `rest-backup-${Math.random().toString(36).slice(2)}`;
    const maintenancePassword = `rest-maint-${Math.random().toString(36).slice(2)}`;
    // Like the deployed repository key (components/*: RandomPassword, 48 letters and digits).
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const resticPassword = Array.from(randomBytes(48), (b) => alphabet[b % alphabet.length]).join("");
    const htpasswd = join(dir, "htpasswd");
    for (const [user, pw, create] of [
        ["backup", backupPassword, true],
        ["maintenance", maintenancePassword, false],
    ] as const) {
        const r = spawnSync("htpasswd", [...(create ? ["-c"] : []), "-B", "-C", "4", "-b", htpasswd, user, pw], {
            encoding: "utf8",
        });
        if (r.status !== 0) throw new Error(`htpasswd: ${r.stderr}`);
    }
    const files: Record<string, string> = {};
    for (const [name, value] of Object.entries({
        backup: backupPassword,
        maintenance: maintenancePassword,
        restic: resticPassword,
    })) {
        files[name] = join(secrets, name);
        writeFileSync(files[name], `${value}\n`, { mode: 0o644 });
    }
    chmodSync(dir, 0o755);
    const backupPort = await freePort();
    const maintenancePort = await freePort();
    let appendOnly = startRclone(["--addr", `127.0.0.1:${backupPort}`, "--htpasswd", htpasswd, "--append-only", store]);
    const full = startRclone(["--addr", `127.0.0.1:${maintenancePort}`, "--htpasswd", htpasswd, store]);
    await Promise.all([waitForPort(backupPort), waitForPort(maintenancePort)]);
    const backupBase = `rest:http://127.0.0.1:${backupPort}/`;
    const maintenanceBase = `rest:http://127.0.0.1:${maintenancePort}/`;
    const extra: ChildProcess[] = [];
    const byBase = new Map<string, ChildProcess>();
    const cache = join(dir, "cache");
    mkdirSync(cache, { mode: 0o777 });
    chmodSync(cache, 0o777);
    const stopProcess = async (p: ChildProcess): Promise<void> => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        const gone = new Promise((r) => p.once("exit", r));
        p.kill("SIGTERM");
        await gone;
    };
    return {
        dir: store,
        backupBase,
        maintenanceBase,
        backupPassword,
        maintenancePassword,
        resticPassword,
        env: {
            NAS_BACKUP_REPOSITORY_BASE: backupBase,
            NAS_BACKUP_MAINTENANCE_REPOSITORY_BASE: maintenanceBase,
            NAS_BACKUP_REST_USER: "backup",
            NAS_BACKUP_REST_PASSWORD_FILE: files.backup,
            NAS_BACKUP_MAINTENANCE_USER: "maintenance",
            NAS_BACKUP_MAINTENANCE_PASSWORD_FILE: files.maintenance,
            RESTIC_PASSWORD_FILE: files.restic,
            RESTIC_CACHE_DIR: cache,
        },
        resticEnv(target, role) {
            const [port, user, pw] =
                role === "backup"
                    ? [backupPort, "backup", backupPassword]
                    : [maintenancePort, "maintenance", maintenancePassword];
            return {
                RESTIC_REPOSITORY: `rest:http://${user}:${pw}@127.0.0.1:${port}/${target}/`,
                RESTIC_PASSWORD_FILE: files.restic,
                RESTIC_CACHE_DIR: cache,
                TZ: "UTC",
            };
        },
        async startSlowBackupEndpoint(bwlimit) {
            const port = await freePort();
            const base = `rest:http://127.0.0.1:${port}/`;
            const endpoint = startRclone([
                "--addr",
                `127.0.0.1:${port}`,
                "--htpasswd",
                htpasswd,
                "--append-only",
                "--bwlimit",
                bwlimit,
                store,
            ]);
            extra.push(endpoint);
            byBase.set(base, endpoint);
            await waitForPort(port);
            return base;
        },
        async startTlsBackupEndpoint(cert, key) {
            const port = await freePort();
            extra.push(
                startRclone([
                    "--addr",
                    `127.0.0.1:${port}`,
                    "--htpasswd",
                    htpasswd,
                    "--append-only",
                    "--cert",
                    cert,
                    "--key",
                    key,
                    store,
                ]),
            );
            await waitForPort(port);
            return `rest:https://127.0.0.1:${port}/`;
        },
        killEndpoint(base) {
            byBase.get(base)?.kill("SIGKILL");
        },
        async stopBackupEndpoint() {
            await stopProcess(appendOnly);
        },
        async startBackupEndpoint() {
            appendOnly = startRclone([
                "--addr",
                `127.0.0.1:${backupPort}`,
                "--htpasswd",
                htpasswd,
                "--append-only",
                store,
            ]);
            await waitForPort(backupPort);
        },
        async cleanup() {
            await Promise.all([stopProcess(appendOnly), stopProcess(full), ...extra.map(stopProcess)]);
            rmSync(dir, { recursive: true, force: true });
        },
    };
}

export interface CliResult {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
    /** The JSON event lines of stderr. */
    readonly events: readonly { level: string; event: string; [k: string]: unknown }[];
}

export interface CliProcess {
    readonly child: ChildProcess;
    readonly done: Promise<CliResult>;
    /** Resolves with the first event matching. */
    waitForEvent(
        predicate: (e: CliResult["events"][number]) => boolean,
        timeoutMs?: number,
    ): Promise<CliResult["events"][number]>;
}

function parseEvents(stderr: string): CliResult["events"] {
    return stderr
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => {
            try {
                return JSON.parse(l) as CliResult["events"][number];
            } catch {
                throw new Error(`stderr line is not JSON: ${l}`);
            }
        });
}

/** Starts the CLI exactly as `npm run nas-backup` does (tsx), as its own process. */
export function startCli(
    args: readonly string[],
    env: Record<string, string | undefined>,
    options: { uid?: number; gid?: number } = {},
): CliProcess {
    const child = spawn(process.execPath, ["--import", "tsx", cliPath, ...args], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8", ...env },
        stdio: ["ignore", "pipe", "pipe"],
        ...options,
    });
    let stdout = "";
    let stderr = "";
    const waiters: {
        predicate: (e: CliResult["events"][number]) => boolean;
        resolve: (e: CliResult["events"][number]) => void;
    }[] = [];
    let seen = 0;
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
        stderr += c;
        const lines = stderr.split("\n");
        for (; seen < lines.length - 1; seen++) {
            let e: CliResult["events"][number] | undefined;
            try {
                e = JSON.parse(lines[seen]) as CliResult["events"][number];
            } catch {
                continue;
            }
            for (const w of [...waiters]) {
                if (w.predicate(e)) {
                    waiters.splice(waiters.indexOf(w), 1);
                    w.resolve(e);
                }
            }
        }
    });
    const done = new Promise<CliResult>((resolveDone) => {
        child.once("close", (code, signal) =>
            resolveDone({ code, signal, stdout, stderr, events: parseEvents(stderr) }),
        );
    });
    return {
        child,
        done,
        waitForEvent(predicate, timeoutMs = 60_000) {
            return new Promise((resolveEvent, reject) => {
                const timer = setTimeout(
                    () => reject(new Error(`no matching event within ${timeoutMs} ms; stderr so far:\n${stderr}`)),
                    timeoutMs,
                );
                waiters.push({
                    predicate,
                    resolve: (e) => {
                        clearTimeout(timer);
                        resolveEvent(e);
                    },
                });
                void done.then(() => {
                    clearTimeout(timer);
                    reject(new Error(`the CLI exited before the event; stderr:\n${stderr}`));
                });
            });
        },
    };
}

export function runCli(
    args: readonly string[],
    env: Record<string, string | undefined>,
    options: { uid?: number; gid?: number } = {},
): Promise<CliResult> {
    return startCli(args, env, options).done;
}

/**
 * A repository's key files by kind: the one `restic init` calibrated and, once a run added it, the
 * runner's quick key (runner/src/keyFile.ts). For RESTIC_KEY_HINT: which key a restic start derives.
 */
export function repositoryKeys(nas: Nas, target: string): { calibrated?: string; quick?: string } {
    const dir = join(nas.dir, target, "keys");
    const keys: { calibrated?: string; quick?: string } = {};
    for (const id of readdirSync(dir)) {
        const file = JSON.parse(readFileSync(join(dir, id), "utf8")) as KeyFile;
        keys[isQuickKeyFile(file) ? "quick" : "calibrated"] = id;
    }
    return keys;
}

/**
 * A `restic` first on PATH that runs the real one and logs each run in a line, for a test to see which
 * restic runs the runner made. `script` is the wrapper's shell body: `$REAL` is the real restic, `$LOG`
 * the log file. Prepend `dir` to the runner's PATH; `lines()` reads the log, `clear()` empties it.
 * Directory and log are open to every user, for a runner started as another user.
 */
export function resticOnPath(
    script: string,
    parent = tmpdir(),
): { dir: string; lines: () => string[]; clear: () => void } {
    const dir = mkdtempSync(join(parent, "restic-wrapper-"));
    chmodSync(dir, 0o755);
    const log = join(dir, "runs.log");
    const clear = (): void => writeFileSync(log, "");
    clear();
    chmodSync(log, 0o666);
    const real = spawnSync("sh", ["-c", "command -v restic"], { encoding: "utf8" }).stdout.trim();
    writeFileSync(join(dir, "restic"), `#!/bin/sh\nREAL='${real}'\nLOG='${log}'\n${script}\n`, { mode: 0o755 });
    return { dir, lines: () => readFileSync(log, "utf8").split("\n").filter(Boolean), clear };
}

/**
 * Holds `ACCESS EXCLUSIVE` on `table` in `database`, in an open transaction of a psql session of its
 * own, once the promise resolves (the lock is granted; at most 30 s). `release()` commits and ends the
 * session. For a test that must hold the runner at a known point (its sessions wait on the lock).
 */
export function holdLock(
    pg: Pick<Postgres, "binDir" | "env">,
    database: string,
    table: string,
): Promise<{ release: () => void }> {
    const psql = spawn(join(pg.binDir, "psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database], {
        env: { ...process.env, ...pg.env },
        stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    psql.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    psql.stdin.write(`BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE; \\echo locked\n`);
    const release = (): void => void psql.stdin.end("COMMIT;\n");
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            release();
            reject(new Error(`no lock on ${table} in ${database} within 30 s: ${err}`));
        }, 30_000);
        psql.stdout.setEncoding("utf8").on("data", (c: string) => {
            out += c;
            if (!out.includes("locked")) return;
            clearTimeout(timer);
            resolve({ release });
        });
        psql.once("exit", () => {
            clearTimeout(timer);
            reject(new Error(`psql holding ${table} in ${database} exited: ${err}`));
        });
    });
}

/** restic called directly (to look at the repository as an operator would). */
export function restic(
    args: readonly string[],
    env: Record<string, string>,
): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("restic", args, {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        encoding: "utf8",
        timeout: 120_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Live processes whose command line matches (read from /proc: no procps needed; zombies have none). */
export function processesMatching(pattern: RegExp): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        let cmdline: string;
        try {
            cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
        } catch {
            continue;
        }
        if (cmdline && pattern.test(cmdline)) pids.push(Number(entry));
    }
    return pids;
}

export interface RawSnapshot {
    id: string;
    short_id: string;
    time: string;
    tags?: string[];
    paths: string[];
}

export function snapshotsOf(nas: Nas, target: string): RawSnapshot[] {
    const r = restic(["snapshots", "--json", "--no-lock"], nas.resticEnv(target, "maintenance"));
    if (r.status !== 0) throw new Error(`restic snapshots: ${r.stderr}`);
    return JSON.parse(r.stdout) as RawSnapshot[];
}

/** The target's newest manifest, as the runner wrote it. */
export function newestManifest<T>(nas: Nas, target: string): T {
    const snapshot = snapshotsOf(nas, target)
        .filter((s) => s.tags?.includes("manifest"))
        .at(-1)!;
    return JSON.parse(restic(["dump", snapshot.id, "/manifest.json"], nas.resticEnv(target, "backup")).stdout) as T;
}

/** The cause the CLI logged with its (first) error event. */
export function failureCause(r: CliResult): string {
    const cause = r.events.find((e) => e.level === "error")?.cause;
    return cause === undefined ? "" : typeof cause === "string" ? cause : JSON.stringify(cause);
}
