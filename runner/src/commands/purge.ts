/** `nas-backup purge`: every backup of one target deleted on a customer's request, with an audit record (§2.12). */
import { userInfo } from "node:os";
import { backupPolicy } from "../../../components/policy";
import { environment, options, type Command, type CommandSpec, type Invocation, type Outcome } from "./spec";

export const purgeSpec = {
    name: "purge",
    summary: "delete every backup of a target (customer request, §2.12)",
    usage: "nas-backup purge --target NAME --confirm NAME --reason TEXT [--operator NAME] [--audit-file PATH]",
    description: [
        `Early deletion on a customer's request (${backupPolicy.deletionRequestDays.clause}: within ${backupPolicy.deletionRequestDays.value} days of the request).`,
        "Forgets every snapshot of the target, prunes until no pack file is left, checks nothing remains, and writes an",
        "audit record (what was deleted, when, by whom, why) to the log, stdout, the NAS audit repository <URL>/_audit/",
        "and the audit file if given. Uses the maintenance credentials. Stop the target's backup job first.",
    ].join("\n"),
    role: "maintenance",
    options: [
        options.target,
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
        'nas-backup purge --target customer-42-db --confirm customer-42-db --reason "ticket 1234: contract ended" --operator j.doe',
    ],
} as const satisfies CommandSpec;

async function run(cli: Invocation<typeof purgeSpec>): Promise<Outcome> {
    const { purge } = await import("../purge");
    const record = await purge(cli.ctx, {
        target: cli.target(),
        confirm: cli.string("confirm"),
        reason: cli.string("reason"),
        operator: cli.string("operator") ?? safeUserName(),
        auditFile: cli.string("audit-file"),
    });
    cli.print(JSON.stringify(record, null, cli.json ? undefined : 1));
    return "ok";
}

function safeUserName(): string | undefined {
    try {
        return userInfo().username;
    } catch {
        return undefined;
    }
}

export const purgeCommand: Command<typeof purgeSpec> = { spec: purgeSpec, run };
