/**
 * The runner's command line as the CronJobs use it, built from the runner's own contract
 * (runner/src/commands: typed command specs, so a misspelt flag does not compile, and the environment
 * variables each command reads), never re-typed. test/kubernetes/cronJobRunsRunner.test.ts runs the
 * result against a real NAS and PostgreSQL.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
    backupSpec,
    commandLine,
    pruneSpec,
    statusSpec,
    verifySpec,
    type CommandSpec,
} from "../../runner/src/commands";
import { credentialEnv } from "../../runner/src/config";

export { backupSpec, commandLine, pruneSpec, statusSpec, verifySpec };

/** The runner's executable in its image (runner/Dockerfile links it onto PATH). */
export const runnerExecutable = "nas-backup";

/** Every environment variable a command documents (its flags' variables and its environment section). */
export function runnerEnvNames(spec: CommandSpec): ReadonlySet<string> {
    return new Set([
        ...spec.options.flatMap((o) => (o.env === undefined ? [] : [o.env])),
        ...spec.env.flatMap((e) => e.name.split(/,\s*/)),
    ]);
}

/** `name`, after checking that the command reads it. */
export function runnerEnv(spec: CommandSpec, name: string): string {
    if (!runnerEnvNames(spec).has(name)) {
        throw new Error(`nas-backup ${spec.name} does not read the environment variable ${name}`);
    }
    return name;
}

/** The REST credential variables of the append-only (backup) and full-access (maintenance) users. */
export const nasCredentialEnv = credentialEnv;

/** A job secret the runner reads (each runtime maps it to its own secret store: Kubernetes Secret key, Container Apps job secret). */
export type RunnerSecret = "nasUser" | "nasPassword" | "repositoryPassword" | "databasePassword" | "scratchPassword";

/** One environment variable of a runner container: a plain value, or a reference to a job secret (never its value). */
export type RunnerEnvVar =
    | { readonly name: string; readonly value: pulumi.Input<string> }
    | { readonly name: string; readonly secret: RunnerSecret };

/** What the runner needs to reach the NAS: the endpoints (validated), and files and URLs inside the container. */
export interface RunnerNas {
    readonly appendOnlyUrl: URL;
    readonly maintenanceUrl: URL;
    /** Path of the NAS's CA certificate in the container, when the image's trust store does not hold it. */
    readonly caPath?: string;
    readonly pushgatewayUrl?: string;
    /** restic's cache directory (writable). */
    readonly cacheDir: string;
}

/**
 * The NAS environment of one runner command, in the order the runner documents it: the endpoint(s),
 * the credentials of the command's role (append-only or maintenance) and the repository key as secrets.
 */
export function nasRunnerEnv(command: CommandSpec, nas: RunnerNas): RunnerEnvVar[] {
    const env = (name: string) => runnerEnv(command, name);
    const maintenance = command.role === "maintenance";
    const credentials = maintenance ? nasCredentialEnv.maintenance : nasCredentialEnv.backup;
    return [
        { name: env("NAS_BACKUP_REPOSITORY_BASE"), value: `rest:${nas.appendOnlyUrl.href}` },
        ...(maintenance
            ? [{ name: env("NAS_BACKUP_MAINTENANCE_REPOSITORY_BASE"), value: `rest:${nas.maintenanceUrl.href}` }]
            : []),
        { name: env(credentials.user), secret: "nasUser" },
        { name: env(credentials.password), secret: "nasPassword" },
        { name: env("RESTIC_PASSWORD"), secret: "repositoryPassword" },
        { name: env("RESTIC_CACHE_DIR"), value: `${nas.cacheDir}/restic` },
        ...(nas.caPath !== undefined ? [{ name: env("NAS_BACKUP_CACERT"), value: nas.caPath }] : []),
        ...(nas.pushgatewayUrl !== undefined
            ? [{ name: env("NAS_BACKUP_PUSHGATEWAY_URL"), value: nas.pushgatewayUrl }]
            : []),
    ];
}

/** A database the runner dumps, over TLS (§2.9). */
export interface RunnerDatabase {
    readonly host: pulumi.Input<string>;
    readonly port: number;
    readonly role: pulumi.Input<string>;
    readonly sslMode: string;
    /** Path of the CA bundle in the container that verifies the server's certificate. */
    readonly caPath?: string;
}

/** The database environment of a backup: host, port and role as values, the password as a secret. */
export function databaseRunnerEnv(command: CommandSpec, db: RunnerDatabase): RunnerEnvVar[] {
    const env = (name: string) => runnerEnv(command, name);
    return [
        { name: env("PGHOST"), value: db.host },
        { name: env("PGPORT"), value: String(db.port) },
        { name: env("PGUSER"), value: db.role },
        { name: env("PGPASSWORD"), secret: "databasePassword" },
        { name: env("PGSSLMODE"), value: db.sslMode },
        ...(db.caPath !== undefined ? [{ name: env("PGSSLROOTCERT"), value: db.caPath }] : []),
    ];
}

/** The scratch server of a drill on the replica's loopback; `password` false when it trusts loopback connections. */
export function scratchDatabaseRunnerEnv(command: CommandSpec, port: number, password = true): RunnerEnvVar[] {
    const env = (name: string) => runnerEnv(command, name);
    return [
        { name: env("PGHOST"), value: "127.0.0.1" },
        { name: env("PGPORT"), value: String(port) },
        { name: env("PGUSER"), value: "postgres" },
        ...(password ? [{ name: env("PGPASSWORD"), secret: "scratchPassword" as const }] : []),
    ];
}
