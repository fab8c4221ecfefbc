/** `nas-backup prune`: the retention policy (§2.5.1) applied to one target's repository. */
import { backupPolicy } from "../../../components/policy";
import { environment, options, type Command, type CommandSpec, type Invocation, type Outcome } from "./spec";

const nas = backupPolicy.nas;

export const pruneSpec = {
    name: "prune",
    summary: "apply the retention policy and free the space",
    usage: "nas-backup prune --target NAME [--dry-run [--as-of DATE]] [--json]",
    description: [
        `Keeps every backup of the last ${nas.dailyRetentionDays.value} calendar days, each monthly backup for ${nas.monthlyRetentionMonths.value} months`,
        `(${nas.monthlyRetentionMonths.clause}), and always the newest complete backup; deletes the rest, and incomplete`,
        `backups (no manifest) older than ${backupPolicy.rpoHours.value} h. Days and months are counted in ${nas.timeZone.value}.`,
        "Then `restic forget` + `restic prune`. Uses the maintenance credentials.",
    ].join("\n"),
    role: "maintenance",
    options: [
        options.target,
        { flag: "dry-run", type: "boolean", description: "print the plan (keep/delete and why), change nothing." },
        {
            flag: "as-of",
            type: "string",
            placeholder: "DATE",
            description:
                "with --dry-run: the plan as a prune at this time would make it, e.g. what will be deleted on the 1st; see TIMES.",
        },
        options.maintenanceRepositoryBase,
        options.repositoryBase,
        options.json,
        options.help,
    ],
    env: [
        ...environment.resticPassword,
        ...environment.maintenanceCredentials,
        ...environment.nas,
        ...environment.pushgateway,
    ],
    examples: [
        "nas-backup prune --target shop-db --dry-run",
        "nas-backup prune --target shop-db --dry-run --as-of 2025-04-01   # what will be deleted on the 1st?",
        "nas-backup prune --target shop-db",
    ],
} as const satisfies CommandSpec;

async function run(cli: Invocation<typeof pruneSpec>): Promise<Outcome> {
    const { formatPlan, planToJson, prune } = await import("../prune");
    const target = cli.target();
    const asOf = await cli.instant("as-of");
    const { UsageError } = await import("../proc");
    if (asOf && !cli.boolean("dry-run"))
        throw new UsageError("--as-of plans for another time and needs --dry-run: a prune deletes as of now");
    const result = await prune(cli.ctx, { target, dryRun: cli.boolean("dry-run"), now: asOf });
    cli.print(
        cli.json
            ? JSON.stringify(planToJson(target, result.plan))
            : `${result.dryRun ? "(dry run: nothing deleted)\n" : ""}${formatPlan(target, result.plan)}`,
    );
    return "ok";
}

export const pruneCommand: Command<typeof pruneSpec> = { spec: pruneSpec, run };
