/** `nas-backup verify`: integrity check and restore drill against the RTO (§2.10, §2.13.1). */
import { backupPolicy } from "../../../components/policy";
import type { VerifyResult } from "../verify";
import {
    DEFAULT_RTO_SHARE_PERCENT,
    environment,
    options,
    type Command,
    type CommandSpec,
    type Invocation,
    type Outcome,
} from "./spec";

export const verifySpec = {
    name: "verify",
    summary: "check the repository's integrity and run a restore drill",
    usage: "nas-backup verify --target NAME [--read-data-subset N/T|X%] [--admin-database NAME] [--scratch-directory PATH [--scratch-limit SIZE] [--scratch-hint TEXT]] [--rto-share PERCENT] [--json]",
    description: [
        "`restic check --read-data-subset` (default: one seventh of the pack files, a different one each day), then",
        "restores the latest complete backup into a scratch database (nas_backup_drill_<target>, dropped afterwards) or a",
        "scratch directory and compares it with the manifest. Reports the drill's duration against the RTO of",
        `${backupPolicy.rtoHours.value} h (${backupPolicy.rtoHours.clause}); fails if the check fails, the data differ, or the drill exceeds --rto-share of the RTO`,
        `(default ${DEFAULT_RTO_SHARE_PERCENT} %). Records the drill's throughput in the repository (a snapshot tagged drill), from which status projects restore times.`,
        "The scratch database is created on the server of the PG* variables: point them at a drill server, not production.",
    ].join("\n"),
    role: "backup",
    options: [
        options.target,
        {
            flag: "read-data-subset",
            type: "string",
            placeholder: "SUBSET",
            env: "NAS_BACKUP_READ_DATA_SUBSET",
            description:
                "pack files to read and verify: n/t, x% or a size (restic check syntax); 100% reads everything.",
        },
        options.adminDatabase,
        options.rtoShare,
        {
            flag: "scratch-directory",
            type: "string",
            placeholder: "PATH",
            env: "NAS_BACKUP_SCRATCH_DIRECTORY",
            description:
                "where directory drills restore to (default: the system temp directory); for a database, the directory the scratch server keeps its data in. Checked for room before the drill restores.",
        },
        {
            flag: "scratch-limit",
            type: "string",
            placeholder: "SIZE",
            env: "NAS_BACKUP_SCRATCH_LIMIT",
            description:
                "count at most SIZE of the scratch filesystem as available (e.g. 20G; binary units), for a filesystem other jobs share.",
        },
        {
            flag: "scratch-hint",
            type: "string",
            placeholder: "TEXT",
            env: "NAS_BACKUP_SCRATCH_HINT",
            description:
                "what the error tells the operator to do when the scratch is too small (e.g. raise the configuration key that sizes it).",
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
    ],
    examples: ["nas-backup verify --target shop-db", "nas-backup verify --target shop-db --read-data-subset 100%"],
} as const satisfies CommandSpec;

async function run(cli: Invocation<typeof verifySpec>): Promise<Outcome> {
    const [{ verify, VerifyFailed }, { rtoShareFraction }, { parseSize }] = await Promise.all([
        import("../verify"),
        import("../config"),
        import("../scratch"),
    ]);
    const show = (result: VerifyResult): void => cli.print(cli.json ? JSON.stringify(result) : verifyText(result));
    try {
        show(
            await verify(cli.ctx, {
                target: cli.target(),
                readDataSubset: cli.string("read-data-subset"),
                adminDatabase: cli.string("admin-database") ?? "postgres",
                scratchDirectory: cli.string("scratch-directory"),
                scratchLimitBytes: parseSize("scratch-limit", cli.string("scratch-limit")),
                scratchHint: cli.string("scratch-hint"),
                rtoShare: rtoShareFraction(cli.string("rto-share"), DEFAULT_RTO_SHARE_PERCENT),
            }),
        );
        return "ok";
    } catch (e) {
        if (!(e instanceof VerifyFailed)) throw e;
        show(e.result);
        return "failure";
    }
}

function verifyText(r: VerifyResult): string {
    const lines = [
        `verify ${r.target}: ${r.ok ? "OK" : "FAILED"}`,
        `  restic check --read-data-subset ${r.check.readDataSubset}: ${r.check.ok ? "ok" : `FAILED: ${r.check.cause}`}`,
    ];
    if ("rtoSeconds" in r.drill) {
        const d = r.drill;
        lines.push(
            `  restore drill of ${d.snapshot} (${d.snapshotTime}) into ${d.into}: ${d.problems.length ? `FAILED: ${d.problems.join("; ")}` : "complete"}`,
            `  drill duration ${d.durationSeconds} s, RTO ${d.rtoSeconds} s: ${d.withinRto ? "within" : "EXCEEDED"}; ${d.withinBudget ? "within" : "EXCEEDS"} the restore budget of ${d.budgetSeconds} s (--rto-share of the RTO)`,
        );
    } else lines.push(`  restore drill: FAILED: ${r.drill.cause}`);
    return lines.join("\n");
}

export const verifyCommand: Command<typeof verifySpec> = { spec: verifySpec, run };
