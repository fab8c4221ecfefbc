/** `nas-backup restore`: a complete backup into a database or directory, proved against its manifest (§2.13). */
import type { ClassifiedBackup } from "../retention";
import { environment, options, type Command, type CommandSpec, type Invocation, type Outcome } from "./spec";

export const restoreSpec = {
    name: "restore",
    summary: "restore a backup into a database or directory",
    usage: "nas-backup restore --target NAME [--snapshot ID|latest] [--before DATE] (--into-database NAME | --into-directory PATH) [--create] [--create-roles] [--force] [--no-owner] [--jobs N [--scratch-directory PATH]]\n       nas-backup restore --target NAME --list",
    description: [
        "Restores a complete backup (never an incomplete one) and proves it against the manifest (every table's rows and",
        "content digest, sequence values, schema objects with owners and grants, large objects; files and bytes for",
        "directories). Databases: pg_restore in one transaction, so a failure leaves the database unchanged, and a database",
        "--create made is removed again. Refuses a database or directory that is not empty unless --force. On a new server,",
        "--create-roles first creates the roles recorded with the backup that the server lacks (without passwords).",
        "A directory backup of /mnt/share is restored to <PATH>/mnt/share: first into a staging folder there, checked against",
        "the manifest, and only then put in place, so a failed or incomplete restore leaves the directory as it was.",
        "--jobs N (databases, N > 1) lands the dump on local scratch space first (checked for room and against the",
        "manifest's size and SHA-256 before anything is restored), then runs pg_restore --jobs N: faster for large",
        "databases on several cores, but not one transaction: a failure removes a database --create made, and leaves",
        "an existing one partly restored.",
    ].join("\n"),
    role: "backup",
    options: [
        options.target,
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
            flag: "create-roles",
            type: "boolean",
            description:
                "create the roles recorded with the backup that this server lacks, before the data (a restore onto a new server); they get no password: set them afterwards.",
        },
        {
            flag: "no-owner",
            type: "boolean",
            description: "do not restore ownership and privileges (when the source's roles do not exist).",
        },
        {
            flag: "jobs",
            type: "string",
            placeholder: "N",
            description:
                "databases: land the dump on local scratch space, then restore with pg_restore --jobs N (parallel; not one transaction).",
        },
        {
            flag: "scratch-directory",
            type: "string",
            placeholder: "PATH",
            env: "NAS_BACKUP_SCRATCH_DIRECTORY",
            description: "with --jobs: where the dump lands (default: the system temp directory); needs room for it.",
        },
        options.adminDatabase,
        { flag: "list", type: "boolean", description: "list the restorable backups of the target and exit." },
        options.repositoryBase,
        options.json,
        options.help,
    ],
    env: [
        ...environment.resticPassword,
        ...environment.backupCredentials,
        ...environment.nas,
        ...environment.postgres,
        ...environment.progress,
    ],
    examples: [
        "nas-backup restore --target shop-db --list",
        "nas-backup restore --target shop-db --into-database shop_restored --create",
        "nas-backup restore --target shop-db --into-database shop --create --create-roles   # onto a new server",
        "nas-backup restore --target shop-db --before 2025-03-01 --into-database shop_restored --create",
        "nas-backup restore --target shop-db --into-database shop_restored --create --jobs 4 --scratch-directory /scratch",
        "nas-backup restore --target documents --snapshot 1a2b3c4d --into-directory /restore",
    ],
} as const satisfies CommandSpec;

type Cli = Invocation<typeof restoreSpec>;

async function run(cli: Cli): Promise<Outcome> {
    if (cli.boolean("list")) return list(cli);
    const restore = await import("../restore");
    const target = cli.target();
    const result = await restore.restoreCommand(cli.ctx, {
        target,
        selector: { snapshot: cli.string("snapshot") ?? "latest", before: await cli.instant("before") },
        intoDatabase: cli.string("into-database"),
        intoDirectory: cli.string("into-directory"),
        adminDatabase: cli.string("admin-database") ?? "postgres",
        create: cli.boolean("create"),
        force: cli.boolean("force"),
        noOwner: cli.boolean("no-owner"),
        createRoles: cli.boolean("create-roles"),
        jobs: restore.parseJobs(cli.string("jobs")),
        scratchDirectory: cli.string("scratch-directory"),
    });
    cli.print(
        cli.json
            ? JSON.stringify(result)
            : `restored ${target} snapshot ${result.snapshot} (${result.snapshotTime}) into ${result.into}: complete, ${result.bytes} bytes, ${result.durationSeconds} s` +
                  (result.rolesCreated?.length
                      ? `\ncreated roles without passwords (set them before the application connects): ${result.rolesCreated.join(", ")}`
                      : ""),
    );
    return "ok";
}

/** --list: the complete (restorable) backups of the target. */
async function list(cli: Cli): Promise<Outcome> {
    const { classify, nasRetention } = await import("../retention");
    const { log } = await import("../log");
    const target = cli.target();
    try {
        const repo = cli.ctx.repository(target, "backup");
        await repo.requireExisting();
        const backups = classify(await repo.snapshots(), nasRetention()).filter((b) => b.complete);
        cli.print(cli.json ? JSON.stringify(backups.map(listEntry)) : listText(backups));
        return "ok";
    } catch (e) {
        log("error", "restore.failure", { target, list: true, cause: (e as Error).message });
        throw e;
    }
}

function listEntry(b: ClassifiedBackup): object {
    return { snapshot: b.id, time: b.time.toISOString(), monthly: b.monthly, kind: b.kind };
}

function listText(backups: readonly ClassifiedBackup[]): string {
    return [
        "SNAPSHOT  TIME (UTC)                KIND       MONTHLY",
        ...backups.map(
            (b) => `${b.shortId}  ${b.time.toISOString()}  ${(b.kind ?? "?").padEnd(9)}  ${b.monthly ? "monthly" : ""}`,
        ),
    ].join("\n");
}

export const restoreCommand: Command<typeof restoreSpec> = { spec: restoreSpec, run };
