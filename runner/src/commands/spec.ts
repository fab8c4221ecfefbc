/**
 * The shape of the runner's CLI contract, and the options and environment variables several commands
 * share. Data only: importing this (or ./index) loads components/policy.ts and nothing else, so the
 * Kubernetes CronJobs can be built from the same flag and variable names the runner parses.
 */
import { backupPolicy } from "../../../components/policy";
import type { CredentialRole } from "../config";
import type { Context } from "../context";

export interface OptionSpec {
    readonly flag: string;
    readonly type: "string" | "boolean";
    readonly placeholder?: string;
    /** The environment variable read when the flag is not given. */
    readonly env?: string;
    /** May be given more than once; its environment variable is then a comma-separated list. */
    readonly multiple?: boolean;
    readonly description: string;
}

export interface EnvSpec {
    readonly name: string;
    readonly description: string;
}

export interface CommandSpec {
    readonly name: string;
    readonly summary: string;
    readonly usage: string;
    readonly description: string;
    /** Which NAS credentials (and endpoint) the command uses: append-only backup or full-access maintenance. */
    readonly role: CredentialRole;
    readonly options: readonly OptionSpec[];
    readonly env: readonly EnvSpec[];
    readonly examples: readonly string[];
}

/** The flags of a command, as literal types: a misspelt flag does not compile. */
export type Flag<S extends CommandSpec> = S["options"][number]["flag"];
export type StringFlag<S extends CommandSpec> = Extract<S["options"][number], { readonly type: "string" }>["flag"];
export type BooleanFlag<S extends CommandSpec> = Extract<S["options"][number], { readonly type: "boolean" }>["flag"];

/** How a command ended; cli.ts maps each to its exit code (usage errors are thrown as UsageError). */
export type Outcome = "ok" | "failure" | "rpoBreached" | "rtoAtRisk";

/** One parsed invocation of a command, as its `run` sees it. Flags fall back to their environment variable. */
export interface Invocation<S extends CommandSpec> {
    readonly ctx: Context;
    readonly env: NodeJS.ProcessEnv;
    readonly json: boolean;
    /** The flag's value, else its environment variable's, else undefined. */
    string(flag: StringFlag<S>): string | undefined;
    /** Every value of a repeatable flag, else its environment variable split at commas. */
    list(flag: StringFlag<S>): string[];
    boolean(flag: BooleanFlag<S>): boolean;
    /** The flag's value read as a time (see TIMES in the help); a UsageError if it is not one. */
    instant(flag: StringFlag<S>): Promise<Date | undefined>;
    /** --target, checked (a UsageError if missing or invalid). */
    target(): string;
    /** Writes the command's result to stdout. */
    print(text: string): void;
}

export interface Command<S extends CommandSpec = CommandSpec> {
    readonly spec: S;
    run(invocation: Invocation<S>): Promise<Outcome>;
}

/** Seconds between progress log lines on long work, unless NAS_BACKUP_PROGRESS_SECONDS says otherwise. */
export const DEFAULT_PROGRESS_SECONDS = 30;

/**
 * The share of the RTO (percent) a restore projected at a target's current size may take before
 * verify and status fail: half the RTO leaves room for growth and for a slower day. Not a policy value
 * (the policy sets the RTO itself); --rto-share / NAS_BACKUP_RTO_SHARE override it.
 */
export const DEFAULT_RTO_SHARE_PERCENT = 50;

/**
 * Seconds a backup waits for a NAS that stopped answering before it is aborted, unless
 * NAS_BACKUP_NAS_TIMEOUT_SECONDS says otherwise (restic 0.14 alone took about three minutes).
 */
export const DEFAULT_NAS_TIMEOUT_SECONDS = 60;

export const options = {
    repositoryBase: {
        flag: "repository-base",
        type: "string",
        placeholder: "URL",
        env: "NAS_BACKUP_REPOSITORY_BASE",
        description:
            "restic REST server on the NAS; each target is the repository <URL>/<target>/. e.g. rest:https://nas.example:8000/. Plain http only to a loopback host.",
    },
    maintenanceRepositoryBase: {
        flag: "maintenance-repository-base",
        type: "string",
        placeholder: "URL",
        env: "NAS_BACKUP_MAINTENANCE_REPOSITORY_BASE",
        description: "the NAS's full-access endpoint for the maintenance credentials (default: --repository-base).",
    },
    target: {
        flag: "target",
        type: "string",
        placeholder: "NAME",
        env: "NAS_BACKUP_TARGET",
        description: "what is backed up: one database or one directory, with its own repository (1–40 of a-z 0-9 - _).",
    },
    json: { flag: "json", type: "boolean", description: "print the result as JSON on stdout instead of text." },
    help: { flag: "help", type: "boolean", description: "show this help." },
    rtoShare: {
        flag: "rto-share",
        type: "string",
        placeholder: "PERCENT",
        env: "NAS_BACKUP_RTO_SHARE",
        description: `fail when a restore projected at the target's current size (from the last drill's throughput) exceeds this share of the RTO of ${backupPolicy.rtoHours.value} h (default ${DEFAULT_RTO_SHARE_PERCENT}).`,
    },
    adminDatabase: {
        flag: "admin-database",
        type: "string",
        placeholder: "NAME",
        env: "NAS_BACKUP_ADMIN_DATABASE",
        description: "database to connect to for CREATE/DROP DATABASE (default: postgres).",
    },
} as const satisfies Record<string, OptionSpec>;

export const environment = {
    resticPassword: [
        {
            name: "RESTIC_PASSWORD_FILE",
            description:
                "file holding the repository key that encrypts every backup (§2.9). Required (or RESTIC_PASSWORD).",
        },
        { name: "RESTIC_PASSWORD", description: "the repository key itself, if no file is used." },
    ],
    backupCredentials: [
        {
            name: "NAS_BACKUP_REST_USER",
            description: "REST user of the append-only NAS endpoint (cannot delete or overwrite).",
        },
        {
            name: "NAS_BACKUP_REST_PASSWORD_FILE",
            description: "file holding that user's password (or NAS_BACKUP_REST_PASSWORD).",
        },
        { name: "NAS_BACKUP_REST_PASSWORD", description: "that user's password, if no file is used." },
    ],
    maintenanceCredentials: [
        {
            name: "NAS_BACKUP_MAINTENANCE_USER",
            description: "REST user of the full-access NAS endpoint, for prune and purge only.",
        },
        {
            name: "NAS_BACKUP_MAINTENANCE_PASSWORD_FILE",
            description: "file holding that user's password (or NAS_BACKUP_MAINTENANCE_PASSWORD).",
        },
        { name: "NAS_BACKUP_MAINTENANCE_PASSWORD", description: "that user's password, if no file is used." },
    ],
    nas: [
        {
            name: "NAS_BACKUP_CACERT",
            description: "CA certificate (PEM file) of the NAS's https endpoint, if not in the system store.",
        },
        { name: "RESTIC_CACHE_DIR", description: "restic's local cache (default ~/.cache/restic); must be writable." },
    ],
    postgres: [
        {
            name: "PGHOST, PGPORT, PGUSER",
            description:
                "PostgreSQL server and role (libpq). A non-loopback PGHOST requires PGSSLMODE=require|verify-ca|verify-full.",
        },
        {
            name: "PGPASSWORD, PGPASSFILE",
            description: "the role's password (libpq); never pass it on the command line.",
        },
        { name: "PGSSLMODE, PGSSLROOTCERT", description: "TLS to the server (libpq); verify-full recommended." },
        {
            name: "PGSSLMINPROTOCOLVERSION",
            description: `minimum TLS version to the server; default ${backupPolicy.encryption.databaseMinTls.value} (${backupPolicy.encryption.databaseMinTls.clause}).`,
        },
        {
            name: "NAS_BACKUP_PG_BIN_DIR",
            description:
                "directory of pg_dump, pg_restore and psql matching the server's major version (default: PATH).",
        },
    ],
    pushgateway: [
        {
            name: "NAS_BACKUP_PUSHGATEWAY_URL",
            description:
                "Prometheus Pushgateway base URL; optional. Metrics per target: last success/failure timestamp, duration, bytes added.",
        },
    ],
    progress: [
        {
            name: "NAS_BACKUP_PROGRESS_SECONDS",
            description: `seconds between progress log lines on long work (default ${DEFAULT_PROGRESS_SECONDS}; 0 = none).`,
        },
    ],
    nasTimeout: [
        {
            name: "NAS_BACKUP_NAS_TIMEOUT_SECONDS",
            description: `a backup fails once the NAS has not answered for this many seconds (default ${DEFAULT_NAS_TIMEOUT_SECONDS}; at least 1).`,
        },
    ],
} as const satisfies Record<string, readonly EnvSpec[]>;
