/** `nas-backup status`: each target's newest complete backup against the RPO (§2.8, §2.13.2). */
import { backupPolicy } from "../../../components/policy";
import { environment, options, type Command, type CommandSpec, type Invocation, type Outcome } from "./spec";

export const statusSpec = {
    name: "status",
    summary: "show each target's newest backup against the RPO",
    usage: "nas-backup status --target NAME [--target NAME …] [--json]",
    description: [
        `Per target: the newest complete backup and its age against the RPO of ${backupPolicy.rpoHours.value} h (${backupPolicy.rpoHours.clause}),`,
        "the number of daily and monthly backups, the oldest monthly, and incomplete backups.",
        "Exits 3 if any target has no complete backup younger than the RPO.",
    ].join("\n"),
    role: "backup",
    options: [
        {
            ...options.target,
            multiple: true,
            description: "a target to report; repeat for several (env: comma-separated list).",
        },
        options.repositoryBase,
        options.json,
        options.help,
    ],
    env: [...environment.resticPassword, ...environment.backupCredentials, ...environment.nas],
    examples: ["nas-backup status --target shop-db --target documents"],
} as const satisfies CommandSpec;

async function run(cli: Invocation<typeof statusSpec>): Promise<Outcome> {
    const [{ formatStatus, status }, { checkTargetName }, { UsageError }] = await Promise.all([
        import("../status"),
        import("../config"),
        import("../proc"),
    ]);
    const targets = cli.list("target").map(checkTargetName);
    if (targets.length === 0) throw new UsageError("status needs at least one --target (or NAS_BACKUP_TARGET=a,b)");
    const rows = await status(cli.ctx, targets);
    cli.print(cli.json ? JSON.stringify(rows) : formatStatus(rows));
    return rows.every((r) => r.withinRpo) ? "ok" : "rpoBreached";
}

export const statusCommand: Command<typeof statusSpec> = { spec: statusSpec, run };
