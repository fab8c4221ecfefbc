/** `nas-backup backup`: one database or directory to its repository on the NAS (§2.5.1.1, §2.5.1.2). */
import { backupPolicy } from "../../../components/policy";
import { environment, options, type Command, type CommandSpec, type Invocation, type Outcome } from "./spec";

export const backupSpec = {
    name: "backup",
    summary: "back up one database or directory to its repository on the NAS",
    usage: "nas-backup backup --target NAME (--database NAME | --directory PATH) [--time ISO] [--json]",
    description: [
        "Database: pg_dump (custom format, uncompressed so restic deduplicates and compresses) of one consistent",
        "MVCC snapshot, streamed into restic; a manifest with every table's row count, taken in the same snapshot,",
        "is stored as a second snapshot and is the backup's commit record. If pg_dump fails or is killed, no",
        "snapshot is written. Directory: restic backup of the tree; a file that cannot be read fails the backup.",
        `Tags: target=NAME, kind, run, daily. The monthly backup (the first complete one of a calendar month in ${backupPolicy.nas.timeZone.value})`,
        "is not tagged: prune, status and restore --list decide it from the complete backups.",
        "Uses the append-only credentials; creates the target's repository on its first backup.",
    ].join("\n"),
    role: "backup",
    options: [
        options.target,
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
        options.repositoryBase,
        options.json,
        options.help,
    ],
    env: [
        ...environment.resticPassword,
        ...environment.backupCredentials,
        ...environment.nas,
        ...environment.postgres,
        ...environment.pushgateway,
        ...environment.progress,
        ...environment.nasTimeout,
    ],
    examples: [
        "nas-backup backup --target shop-db --database shop",
        "nas-backup backup --target documents --directory /mnt/documents",
    ],
} as const satisfies CommandSpec;

async function run(cli: Invocation<typeof backupSpec>): Promise<Outcome> {
    const { backup } = await import("../backup");
    const target = cli.target();
    const result = await backup(cli.ctx, {
        target,
        database: cli.string("database"),
        directory: cli.string("directory"),
        time: await cli.instant("time"),
    });
    cli.print(
        cli.json
            ? JSON.stringify(result)
            : `backup of ${target}: snapshot ${result.snapshot}, ${result.bytes} bytes read, ${result.bytesNew} bytes new (uncompressed), ${result.bytesStored} bytes stored on the NAS, ${result.durationSeconds} s`,
    );
    return "ok";
}

export const backupCommand: Command<typeof backupSpec> = { spec: backupSpec, run };
