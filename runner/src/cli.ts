#!/usr/bin/env node
/**
 * nas-backup: daily encrypted backups of databases and file shares to the self-hosted NAS with restic,
 * retention, verification, restore and customer-requested deletion (Data Backup Policy v1.2.0,
 * §2.5.1, §2.8–2.10, §2.12, §2.13, §2.15).
 *
 * The commands, flags and environment variables below are a contract (the Kubernetes CronJobs are
 * built from it); runner/README.md documents the same, and a test keeps both in step.
 */
import { parseArgs } from "node:util";
import { userInfo } from "node:os";
import { backupPolicy } from "../../components/policy";
import { backup } from "./backup";
import { zonedInstant } from "./calendar";
import { checkTargetName } from "./config";
import { createContext, DEFAULT_PROGRESS_SECONDS, type Context } from "./context";
import { log } from "./log";
import { killChildren, OperationError, UsageError } from "./proc";
import { formatPlan, planToJson, prune } from "./prune";
import { purge } from "./purge";
import { restoreCommand } from "./restore";
import { classify, nasRetention } from "./retention";
import { formatStatus, status } from "./status";
import { verify, VerifyFailed, drillDatabaseName } from "./verify";

export interface OptionSpec {
    readonly flag: string;
    readonly type: "string" | "boolean";
    readonly placeholder?: string;
    readonly env?: string;
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
    readonly options: readonly OptionSpec[];
    readonly env: readonly EnvSpec[];
    readonly examples: readonly string[];
}

const nas = backupPolicy.nas;

const opt = {
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
    adminDatabase: {
        flag: "admin-database",
        type: "string",
        placeholder: "NAME",
        env: "NAS_BACKUP_ADMIN_DATABASE",
        description: "database to connect to for CREATE/DROP DATABASE (default: postgres).",
    },
} as const satisfies Record<string, OptionSpec>;

const env = {
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
} as const satisfies Record<string, readonly EnvSpec[]>;

export const commands: readonly CommandSpec[] = [
    {
        name: "backup",
        summary: "back up one database or directory to its repository on the NAS",
        usage: "nas-backup backup --target NAME (--database NAME | --directory PATH) [--time ISO] [--json]",
        description: [
            "Database: pg_dump (custom format, uncompressed so restic deduplicates and compresses) of one consistent",
            "MVCC snapshot, streamed into restic; a manifest with every table's row count, taken in the same snapshot,",
            "is stored as a second snapshot and is the backup's commit record. If pg_dump fails or is killed, no",
            "snapshot is written. Directory: restic backup of the tree; a file that cannot be read fails the backup.",
            `Tags: target=NAME, daily, and monthly on the first successful backup of a calendar month (${nas.timeZone.value}).`,
            "Uses the append-only credentials; creates the target's repository on its first backup.",
        ].join("\n"),
        options: [
            opt.target,
            {
                flag: "database",
                type: "string",
                placeholder: "NAME",
                env: "NAS_BACKUP_DATABASE",
                description: "database to dump (connection from the PG* variables).",
            },
            {
                flag: "directory",
                type: "string",
                placeholder: "PATH",
                env: "NAS_BACKUP_DIRECTORY",
                description: "directory (mounted file share) to back up.",
            },
            {
                flag: "time",
                type: "string",
                placeholder: "ISO",
                description: "record the backup at this time instead of now (history imports, tests); see TIMES.",
            },
            opt.repositoryBase,
            opt.json,
            opt.help,
        ],
        env: [
            ...env.resticPassword,
            ...env.backupCredentials,
            ...env.nas,
            ...env.postgres,
            ...env.pushgateway,
            ...env.progress,
        ],
        examples: [
            "nas-backup backup --target shop-db --database shop",
            "nas-backup backup --target documents --directory /mnt/documents",
        ],
    },
    {
        name: "prune",
        summary: "apply the retention policy and free the space",
        usage: "nas-backup prune --target NAME [--dry-run] [--json]",
        description: [
            `Keeps every backup of the last ${nas.dailyRetentionDays.value} calendar days, each monthly backup for ${nas.monthlyRetentionMonths.value} months`,
            `(${nas.monthlyRetentionMonths.clause}), and always the newest complete backup; deletes the rest, and incomplete`,
            `backups (no manifest) older than ${backupPolicy.rpoHours.value} h. Days and months are counted in ${nas.timeZone.value}.`,
            "Then `restic forget` + `restic prune`. Uses the maintenance credentials.",
        ].join("\n"),
        options: [
            opt.target,
            { flag: "dry-run", type: "boolean", description: "print the plan (keep/delete and why), change nothing." },
            opt.maintenanceRepositoryBase,
            opt.repositoryBase,
            opt.json,
            opt.help,
        ],
        env: [...env.resticPassword, ...env.maintenanceCredentials, ...env.nas, ...env.pushgateway],
        examples: ["nas-backup prune --target shop-db --dry-run", "nas-backup prune --target shop-db"],
    },
    {
        name: "verify",
        summary: "check the repository's integrity and run a restore drill",
        usage: "nas-backup verify --target NAME [--read-data-subset N/T|X%] [--admin-database NAME] [--scratch-directory PATH] [--json]",
        description: [
            "`restic check --read-data-subset` (default: one seventh of the pack files, a different one each day), then",
            "restores the latest complete backup into a scratch database (nas_backup_drill_<target>, dropped afterwards) or a",
            "scratch directory and compares it with the manifest. Reports the drill's duration against the RTO of",
            `${backupPolicy.rtoHours.value} h (${backupPolicy.rtoHours.clause}); fails if the check fails, the data differ, or the drill exceeds the RTO.`,
            "The scratch database is created on the server of the PG* variables: point them at a drill server, not production.",
        ].join("\n"),
        options: [
            opt.target,
            {
                flag: "read-data-subset",
                type: "string",
                placeholder: "SUBSET",
                env: "NAS_BACKUP_READ_DATA_SUBSET",
                description:
                    "pack files to read and verify: n/t, x% or a size (restic check syntax); 100% reads everything.",
            },
            opt.adminDatabase,
            {
                flag: "scratch-directory",
                type: "string",
                placeholder: "PATH",
                env: "NAS_BACKUP_SCRATCH_DIRECTORY",
                description: "where directory drills restore to (default: the system temp directory).",
            },
            opt.repositoryBase,
            opt.json,
            opt.help,
        ],
        env: [
            ...env.resticPassword,
            ...env.backupCredentials,
            ...env.nas,
            ...env.postgres,
            ...env.pushgateway,
            ...env.progress,
        ],
        examples: ["nas-backup verify --target shop-db", "nas-backup verify --target shop-db --read-data-subset 100%"],
    },
    {
        name: "restore",
        summary: "restore a backup into a database or directory",
        usage: "nas-backup restore --target NAME [--snapshot ID|latest] [--before DATE] (--into-database NAME | --into-directory PATH) [--create] [--force] [--no-owner]\n       nas-backup restore --target NAME --list",
        description: [
            "Restores a complete backup (never an incomplete one) and proves it against the manifest (row counts, sequences,",
            "large objects; files and bytes for directories). Databases: pg_restore in one transaction, so a failure leaves",
            "the database unchanged. Refuses a database or directory that is not empty unless --force.",
            "A directory backup of /mnt/share is restored to <PATH>/mnt/share: first into a staging folder there, checked against",
            "the manifest, and only then put in place, so a failed or incomplete restore leaves the directory as it was.",
        ].join("\n"),
        options: [
            opt.target,
            {
                flag: "snapshot",
                type: "string",
                placeholder: "ID",
                description: "snapshot id (or unique prefix) of the backup, or latest (default).",
            },
            {
                flag: "before",
                type: "string",
                placeholder: "DATE",
                description: "the latest backup taken before this time; see TIMES.",
            },
            {
                flag: "into-database",
                type: "string",
                placeholder: "NAME",
                description: "database to restore into (server from the PG* variables).",
            },
            { flag: "into-directory", type: "string", placeholder: "PATH", description: "directory to restore into." },
            { flag: "create", type: "boolean", description: "create the database if it does not exist." },
            {
                flag: "force",
                type: "boolean",
                description:
                    "restore into a non-empty database (drops and recreates the dump's objects) or directory (replaces <PATH>/<original path> with the backup).",
            },
            {
                flag: "no-owner",
                type: "boolean",
                description: "do not restore ownership and privileges (when the source's roles do not exist).",
            },
            opt.adminDatabase,
            { flag: "list", type: "boolean", description: "list the restorable backups of the target and exit." },
            opt.repositoryBase,
            opt.json,
            opt.help,
        ],
        env: [...env.resticPassword, ...env.backupCredentials, ...env.nas, ...env.postgres, ...env.progress],
        examples: [
            "nas-backup restore --target shop-db --list",
            "nas-backup restore --target shop-db --into-database shop_restored --create",
            "nas-backup restore --target shop-db --before 2025-03-01 --into-database shop_restored --create",
            "nas-backup restore --target documents --snapshot 1a2b3c4d --into-directory /restore",
        ],
    },
    {
        name: "purge",
        summary: "delete every backup of a target (customer request, §2.12)",
        usage: "nas-backup purge --target NAME --confirm NAME --reason TEXT [--operator NAME] [--audit-file PATH]",
        description: [
            `Early deletion on a customer's request (${backupPolicy.deletionRequestDays.clause}: within ${backupPolicy.deletionRequestDays.value} days of the request).`,
            "Forgets every snapshot of the target, prunes until no pack file is left, checks nothing remains, and writes an",
            "audit record (what was deleted, when, by whom, why) to the log, stdout, the NAS audit repository <URL>/_audit/",
            "and the audit file if given. Uses the maintenance credentials. Stop the target's backup job first.",
        ].join("\n"),
        options: [
            opt.target,
            {
                flag: "confirm",
                type: "string",
                placeholder: "NAME",
                description: "the target name again: confirms the deletion.",
            },
            {
                flag: "reason",
                type: "string",
                placeholder: "TEXT",
                description: "why: the customer request or ticket reference (recorded in the audit).",
            },
            {
                flag: "operator",
                type: "string",
                placeholder: "NAME",
                env: "NAS_BACKUP_OPERATOR",
                description: "who performs the deletion (default: the OS user).",
            },
            {
                flag: "audit-file",
                type: "string",
                placeholder: "PATH",
                env: "NAS_BACKUP_AUDIT_FILE",
                description: "also append the audit record (one JSON line) to this file.",
            },
            opt.maintenanceRepositoryBase,
            opt.repositoryBase,
            opt.json,
            opt.help,
        ],
        env: [...env.resticPassword, ...env.maintenanceCredentials, ...env.nas, ...env.pushgateway],
        examples: [
            'nas-backup purge --target customer-42-db --confirm customer-42-db --reason "ticket 1234: contract ended" --operator j.doe',
        ],
    },
    {
        name: "status",
        summary: "show each target's newest backup against the RPO",
        usage: "nas-backup status --target NAME [--target NAME …] [--json]",
        description: [
            `Per target: the newest complete backup and its age against the RPO of ${backupPolicy.rpoHours.value} h (${backupPolicy.rpoHours.clause}),`,
            "the number of daily and monthly backups, the oldest monthly, and incomplete backups.",
            "Exits 3 if any target has no complete backup younger than the RPO.",
        ].join("\n"),
        options: [
            {
                ...opt.target,
                multiple: true,
                description: "a target to report; repeat for several (env: comma-separated list).",
            },
            opt.repositoryBase,
            opt.json,
            opt.help,
        ],
        env: [...env.resticPassword, ...env.backupCredentials, ...env.nas],
        examples: ["nas-backup status --target shop-db --target documents"],
    },
];

export const exitCodes = { ok: 0, failure: 1, usage: 2, rpoBreached: 3 } as const;

const TIMES = `TIMES: 2025-03-01 means 00:00 on that day in ${nas.timeZone.value}; 2025-03-01T14:30 is wall-clock time there; 2025-03-01T13:30:00Z or +01:00 is exact.`;
const EXIT = `EXIT STATUS: ${exitCodes.ok} success, ${exitCodes.failure} failure (cause in the log), ${exitCodes.usage} usage or configuration error, ${exitCodes.rpoBreached} (status) a target breaches the RPO.`;
const LOGGING =
    "OUTPUT: one JSON line per event on stderr (start, progress, success with bytes and duration, failure with cause); results on stdout. Passwords never appear.";

function wrapRows(rows: readonly [string, string][]): string {
    const width = Math.min(34, Math.max(...rows.map(([a]) => a.length)) + 2);
    return rows
        .map(([a, b]) => (a.length + 2 > width ? `  ${a}\n  ${"".padEnd(width)}${b}` : `  ${a.padEnd(width)}${b}`))
        .join("\n");
}

export function commandHelp(spec: CommandSpec): string {
    const options = spec.options.map((o): [string, string] => [
        `--${o.flag}${o.placeholder ? ` ${o.placeholder}` : ""}`,
        `${o.description}${o.env ? ` [env ${o.env}]` : ""}`,
    ]);
    return [
        `nas-backup ${spec.name} — ${spec.summary}`,
        "",
        `Usage: ${spec.usage}`,
        "",
        spec.description,
        "",
        "Options:",
        wrapRows(options),
        "",
        "Environment:",
        wrapRows(spec.env.map((e): [string, string] => [e.name, e.description])),
        "",
        TIMES,
        EXIT,
        LOGGING,
        "",
        "Examples:",
        ...spec.examples.map((e) => `  ${e}`),
    ].join("\n");
}

export function mainHelp(): string {
    return [
        `nas-backup — encrypted backups to the NAS with restic (Data Backup Policy v${backupPolicy.version.value})`,
        "",
        "Usage: nas-backup <command> [options]      (from the repository: npm run nas-backup -- <command> [options])",
        "",
        "Commands:",
        wrapRows(commands.map((c): [string, string] => [c.name, c.summary])),
        "",
        "Run `nas-backup <command> --help` for its options and environment variables.",
        "Every command needs the NAS (--repository-base or NAS_BACKUP_REPOSITORY_BASE; prune and purge use",
        "NAS_BACKUP_MAINTENANCE_REPOSITORY_BASE if set) and the repository key (RESTIC_PASSWORD_FILE).",
        EXIT,
        LOGGING,
    ].join("\n");
}

/** Parses --time/--before: a date (midnight in the policy's zone), a wall-clock time there, or an exact instant. */
export function parseInstant(value: string, flag: string): Date {
    const local = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/.exec(value);
    if (local) {
        const [, y, m, d, hh, mm] = local;
        return zonedInstant(
            { year: Number(y), month: Number(m), day: Number(d) },
            Number(hh ?? 0),
            Number(mm ?? 0),
            nas.timeZone.value,
        );
    }
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
        const t = new Date(value);
        if (!Number.isNaN(t.getTime())) return t;
    }
    throw new UsageError(
        `--${flag} ${JSON.stringify(value)}: expected 2025-03-01, 2025-03-01T14:30 (${nas.timeZone.value}) or 2025-03-01T13:30:00Z`,
    );
}

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(spec: CommandSpec, argv: readonly string[]): Values {
    const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {};
    for (const o of spec.options)
        options[o.flag] = {
            type: o.type,
            ...(o.multiple ? { multiple: true } : {}),
            ...(o.flag === "help" ? { short: "h" } : {}),
        };
    let values: Values;
    try {
        values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Values;
    } catch (e) {
        throw new UsageError(`${(e as Error).message.split("\n")[0]} (see nas-backup ${spec.name} --help)`);
    }
    return values;
}

function stringValue(
    spec: CommandSpec,
    values: Values,
    flag: string,
    environment: NodeJS.ProcessEnv,
): string | undefined {
    const o = spec.options.find((x) => x.flag === flag)!;
    const v = values[flag];
    if (typeof v === "string" && v !== "") return v;
    return o.env ? environment[o.env] || undefined : undefined;
}

function print(text: string): void {
    process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

export async function main(argv: readonly string[], environment: NodeJS.ProcessEnv = process.env): Promise<number> {
    const [name, ...rest] = argv;
    if (!name || name === "help" || name === "--help" || name === "-h") {
        print(mainHelp());
        return name ? exitCodes.ok : exitCodes.usage;
    }
    const spec = commands.find((c) => c.name === name);
    try {
        if (!spec)
            throw new UsageError(
                `unknown command ${JSON.stringify(name)}; commands: ${commands.map((c) => c.name).join(", ")}`,
            );
        const values = parse(spec, rest);
        if (values.help) {
            print(commandHelp(spec));
            return exitCodes.ok;
        }
        const get = (flag: string): string | undefined => stringValue(spec, values, flag, environment);
        const json = values.json === true;
        const maintenance = spec.name === "prune" || spec.name === "purge";
        const ctx: Context = createContext(
            environment,
            {
                backup: get("repository-base"),
                maintenance: maintenance ? get("maintenance-repository-base") : undefined,
            },
            [maintenance ? "maintenance" : "backup"],
        );
        switch (spec.name) {
            case "backup": {
                const target = checkTargetName(get("target"));
                const time = get("time");
                const result = await backup(ctx, {
                    target,
                    database: get("database"),
                    directory: get("directory"),
                    time: time ? parseInstant(time, "time") : undefined,
                });
                print(
                    json
                        ? JSON.stringify(result)
                        : `backup of ${target}: snapshot ${result.snapshot}${result.monthly ? " (monthly)" : ""}, ${result.bytes} bytes read, ${result.bytesNew} bytes new (uncompressed), ${result.bytesStored} bytes stored on the NAS, ${result.durationSeconds} s`,
                );
                return exitCodes.ok;
            }
            case "prune": {
                const target = checkTargetName(get("target"));
                const result = await prune(ctx, { target, dryRun: values["dry-run"] === true });
                print(
                    json
                        ? JSON.stringify(planToJson(target, result.plan))
                        : `${result.dryRun ? "(dry run: nothing deleted)\n" : ""}${formatPlan(target, result.plan)}`,
                );
                return exitCodes.ok;
            }
            case "verify": {
                const target = checkTargetName(get("target"));
                try {
                    const result = await verify(ctx, {
                        target,
                        readDataSubset: get("read-data-subset"),
                        adminDatabase: get("admin-database") ?? "postgres",
                        scratchDirectory: get("scratch-directory"),
                    });
                    print(json ? JSON.stringify(result) : verifyText(result));
                    return exitCodes.ok;
                } catch (e) {
                    if (e instanceof VerifyFailed) {
                        print(json ? JSON.stringify(e.result) : verifyText(e.result));
                        return exitCodes.failure;
                    }
                    throw e;
                }
            }
            case "restore": {
                const target = checkTargetName(get("target"));
                if (values.list) {
                    const repo = ctx.repository(target, "backup");
                    await repo.requireExisting();
                    const backups = classify(await repo.snapshots(), nasRetention()).filter((b) => b.complete);
                    print(
                        json
                            ? JSON.stringify(
                                  backups.map((b) => ({
                                      snapshot: b.id,
                                      time: b.time.toISOString(),
                                      monthly: b.monthly,
                                      kind: b.kind,
                                  })),
                              )
                            : [
                                  "SNAPSHOT  TIME (UTC)                KIND       MONTHLY",
                                  ...backups.map(
                                      (b) =>
                                          `${b.shortId}  ${b.time.toISOString()}  ${(b.kind ?? "?").padEnd(9)}  ${b.monthly ? "monthly" : ""}`,
                                  ),
                              ].join("\n"),
                    );
                    return exitCodes.ok;
                }
                const before = get("before");
                const result = await restoreCommand(ctx, {
                    target,
                    selector: {
                        snapshot: get("snapshot") ?? "latest",
                        before: before ? parseInstant(before, "before") : undefined,
                    },
                    intoDatabase: get("into-database"),
                    intoDirectory: get("into-directory"),
                    adminDatabase: get("admin-database") ?? "postgres",
                    create: values.create === true,
                    force: values.force === true,
                    noOwner: values["no-owner"] === true,
                });
                print(
                    json
                        ? JSON.stringify(result)
                        : `restored ${target} snapshot ${result.snapshot} (${result.snapshotTime}) into ${result.into}: complete, ${result.bytes} bytes, ${result.durationSeconds} s`,
                );
                return exitCodes.ok;
            }
            case "purge": {
                const target = checkTargetName(get("target"));
                const record = await purge(ctx, {
                    target,
                    confirm: get("confirm"),
                    reason: get("reason"),
                    operator: get("operator") ?? safeUserName(),
                    auditFile: get("audit-file"),
                });
                print(JSON.stringify(record, null, json ? undefined : 1));
                return exitCodes.ok;
            }
            case "status": {
                const flagTargets = (values.target as string[] | undefined) ?? [];
                const targets = (
                    flagTargets.length
                        ? flagTargets
                        : (environment.NAS_BACKUP_TARGET ?? "")
                              .split(",")
                              .map((t) => t.trim())
                              .filter(Boolean)
                ).map(checkTargetName);
                if (targets.length === 0)
                    throw new UsageError("status needs at least one --target (or NAS_BACKUP_TARGET=a,b)");
                const rows = await status(ctx, targets);
                print(json ? JSON.stringify(rows) : formatStatus(rows));
                return rows.every((r) => r.withinRpo) ? exitCodes.ok : exitCodes.rpoBreached;
            }
        }
        throw new UsageError(`unknown command ${name}`);
    } catch (e) {
        if (e instanceof UsageError) {
            log("error", "usage.error", { command: name, cause: e.message });
            return exitCodes.usage;
        }
        if (e instanceof OperationError) return exitCodes.failure; // the command logged its failure
        log("error", "internal.error", { command: name, cause: (e as Error).stack ?? String(e) });
        return exitCodes.failure;
    }
}

function safeUserName(): string | undefined {
    try {
        return userInfo().username;
    } catch {
        return undefined;
    }
}

function verifyText(r: Awaited<ReturnType<typeof verify>>): string {
    const lines = [
        `verify ${r.target}: ${r.ok ? "OK" : "FAILED"}`,
        `  restic check --read-data-subset ${r.check.readDataSubset}: ${r.check.ok ? "ok" : `FAILED: ${r.check.cause}`}`,
    ];
    if ("rtoSeconds" in r.drill) {
        const d = r.drill;
        lines.push(
            `  restore drill of ${d.snapshot} (${d.snapshotTime}) into ${d.into}: ${d.problems.length ? `FAILED: ${d.problems.join("; ")}` : "complete"}`,
            `  drill duration ${d.durationSeconds} s, RTO ${d.rtoSeconds} s: ${d.withinRto ? "within" : "EXCEEDED"}`,
        );
    } else lines.push(`  restore drill: FAILED: ${r.drill.cause}`);
    return lines.join("\n");
}

/** Scratch database name used by verify (exported for the tests and the docs). */
export { drillDatabaseName };

if (require.main === module) {
    let stopping = false;
    for (const [signal, code] of [
        ["SIGTERM", 143],
        ["SIGINT", 130],
    ] as const) {
        process.on(signal, () => {
            if (stopping) return;
            stopping = true;
            // restic first: it must never see the end of a partial dump.
            killChildren();
            log("error", "interrupted", {
                signal,
                cause: `received ${signal}: stopped; an interrupted backup writes no manifest and does not count`,
            });
            process.exit(code);
        });
    }
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e: Error) => {
            log("error", "internal.error", { cause: e.stack ?? String(e) });
            process.exit(exitCodes.failure);
        },
    );
}
