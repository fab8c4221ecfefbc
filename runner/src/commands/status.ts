/** `nas-backup status`: each target's newest complete backup against the RPO (§2.8, §2.13.2). */
import { backupPolicy } from "../../../components/policy";
import {
    DEFAULT_RTO_SHARE_PERCENT,
    environment,
    options,
    type Command,
    type CommandSpec,
    type Invocation,
    type Outcome,
} from "./spec";

export const statusSpec = {
    name: "status",
    summary: "show each target's newest backup against the RPO",
    usage: "nas-backup status --target NAME [--target NAME …] [--rto-share PERCENT] [--json]",
    description: [
        `Per target: the newest complete backup and its age against the RPO of ${backupPolicy.rpoHours.value} h (${backupPolicy.rpoHours.clause}),`,
        "the number of daily and monthly backups, the oldest monthly, and incomplete backups.",
        "Exits 3 if any target has no complete backup younger than the RPO.",
        `Projects each target's restore time at its current size from the last restore drill's throughput (verify records it);`,
        `exits 4 if one exceeds --rto-share (default ${DEFAULT_RTO_SHARE_PERCENT} %) of the RTO of ${backupPolicy.rtoHours.value} h (${backupPolicy.rtoHours.clause}).`,
    ].join("\n"),
    role: "backup",
    options: [
        {
            ...options.target,
            multiple: true,
            description: "a target to report; repeat for several (env: comma-separated list).",
        },
        options.rtoShare,
        options.repositoryBase,
        options.json,
        options.help,
    ],
    env: [...environment.resticPassword, ...environment.backupCredentials, ...environment.nas],
    examples: ["nas-backup status --target shop-db --target documents"],
} as const satisfies CommandSpec;

async function run(cli: Invocation<typeof statusSpec>): Promise<Outcome> {
    const [{ formatStatus, status }, { checkTargetName, rtoShareFraction }, { UsageError }, { restoreBudget }] =
        await Promise.all([import("../status"), import("../config"), import("../proc"), import("../rto")]);
    const targets = cli.list("target").map(checkTargetName);
    if (targets.length === 0) throw new UsageError("status needs at least one --target (or NAS_BACKUP_TARGET=a,b)");
    const budget = restoreBudget(rtoShareFraction(cli.string("rto-share"), DEFAULT_RTO_SHARE_PERCENT));
    const rows = await status(cli.ctx, targets, new Date(), budget);
    cli.print(cli.json ? JSON.stringify(rows) : formatStatus(rows));
    if (!rows.every((r) => r.withinRpo)) return "rpoBreached";
    return rows.some((r) => r.withinRestoreBudget === false) ? "rtoAtRisk" : "ok";
}

export const statusCommand: Command<typeof statusSpec> = { spec: statusSpec, run };
