/**
 * Alerts of the NAS backup Container Apps Jobs (§2.8, §2.13.2, §2.15), through the stack's action
 * group (backupAlerts.ts), all log search alerts over the stack's workspace (diagnostic setting of the
 * environment, resource-specific tables):
 * - stale and failures: the runner's own JSON events (one line per event on stderr, runner/src/log.ts)
 *   in `ContainerAppConsoleLogs`, columns `TimeGenerated` and `Log` (Azure Monitor table reference:
 *   ContainerAppConsoleLogs); that `Log` holds one stderr line unchanged is an assumption about the log agent;
 * - job failures: the platform's own record of a failed execution in `ContainerAppSystemLogs` (columns
 *   `TimeGenerated`, `JobName`, `Reason`, `Log`: Azure Monitor table reference ContainerAppSystemLogs), which
 *   also covers executions that log nothing themselves (killed by `replicaTimeout`, image pull, secret or
 *   mount failures). README.md "Alerts" lists the sources and what is not verified.
 */
import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { backupPolicy } from "../policy";
import { staleAfterSeconds } from "../kubernetes/alerts";

/** Hours after which a target without a successful NAS backup alerts: the RPO plus two (as on Kubernetes). */
export const nasStaleAfterHours = staleAfterSeconds / 3600;

const events = (filter: string) =>
    [
        "ContainerAppConsoleLogs",
        `| where Log has ${filter}`,
        "| extend entry = parse_json(Log)",
        "| extend Event = tostring(entry.event), Target = tostring(entry.target), Level = tostring(entry.level)",
    ].join("\n");

/** One row per target whose newest `backup.success` is older than the threshold, or missing. */
export function nasBackupStaleQuery(targets: readonly string[], thresholdHours: number): string {
    return [
        `let successes = ${events('"backup.success"')}`,
        '| where Event == "backup.success"',
        `| where TimeGenerated > ago(${thresholdHours}h)`,
        "| summarize LastSuccessfulBackup = max(TimeGenerated) by Target;",
        `datatable(Target: string) [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
        "| join kind=leftouter successes on Target",
        "| where isnull(LastSuccessfulBackup)",
        "| project Target",
    ].join("\n");
}

/**
 * One row per failed runner operation: every event of level error (backup, prune, verify and drill
 * failures; a drill slower than the RTO is a `verify.drill.failure`).
 */
export function nasFailureQuery(targets: readonly string[]): string {
    return [
        events('"error"'),
        '| where Level == "error"',
        `| where Target in (${targets.map((t) => JSON.stringify(t)).join(", ")})`,
        "| project TimeGenerated, Target, Event, Cause = tostring(entry.cause)",
    ].join("\n");
}

/**
 * The system log line of an execution that ended as Failed (as Microsoft's .NET engineering alerts query
 * it: dotnet/dnceng#5795) and the Kubernetes Job failure reasons (retries exhausted, deadline passed)
 * the environment may report in `Reason`.
 */
export const failedExecutionLog = "exited with status Failed";
export const failedExecutionReasons = ["BackoffLimitExceeded", "DeadlineExceeded"] as const;

/**
 * One row per failed execution of any of `jobNames`. `JobName` is matched as the job's name or as one
 * of its executions (`<job>-<suffix>`), whichever the platform records.
 */
export function nasJobFailureQuery(jobNames: readonly string[]): string {
    const list = (values: readonly string[]) => values.map((v) => JSON.stringify(v)).join(", ");
    return [
        `let jobs = dynamic([${list(jobNames)}]);`,
        "ContainerAppSystemLogs",
        `| where Log contains "${failedExecutionLog}" or Reason in (${list(failedExecutionReasons)})`,
        '| extend Job = iff(JobName in (jobs), JobName, extract(@"^(.+)-[a-z0-9]+$", 1, JobName))',
        "| where Job in (jobs)",
        "| project TimeGenerated, Job, Execution = JobName, Reason, Log",
    ].join("\n");
}

export interface NasBackupAlertsArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly tags: Record<string, string>;
    readonly workspaceId: pulumi.Input<string>;
    readonly actionGroupId: pulumi.Input<string>;
    readonly targets: readonly string[];
    /** Every NAS job (backup, prune, verify, drill, status): a failed execution of any of them alerts. */
    readonly jobNames: readonly string[];
    /** Rule names are unique per resource group: the environment's name keeps them apart. */
    readonly namePrefix: string;
}

function logAlert(
    name: string,
    args: NasBackupAlertsArgs,
    rule: {
        ruleName: string;
        description: string;
        query: string;
        frequency: string;
        window: string;
        dimension: string;
    },
    parent: pulumi.Resource,
): azure.monitor.ScheduledQueryRule {
    return new azure.monitor.ScheduledQueryRule(
        name,
        {
            ruleName: rule.ruleName,
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            kind: azure.monitor.Kind.LogAlert,
            description: rule.description,
            severity: 1,
            enabled: true,
            scopes: [args.workspaceId],
            evaluationFrequency: rule.frequency,
            windowSize: rule.window,
            criteria: {
                allOf: [
                    {
                        query: rule.query,
                        timeAggregation: azure.monitor.TimeAggregation.Count,
                        operator: "GreaterThan",
                        threshold: 0,
                        dimensions: [
                            { name: rule.dimension, operator: azure.monitor.DimensionOperator.Include, values: ["*"] },
                        ],
                        failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
                    },
                ],
            },
            actions: { actionGroups: [args.actionGroupId] },
            tags: args.tags,
        },
        { parent },
    );
}

/** The three log alerts of the NAS backup jobs, as children of `parent`. */
export function nasBackupAlerts(name: string, args: NasBackupAlertsArgs, parent: pulumi.Resource): void {
    logAlert(
        `${name}-stale`,
        args,
        {
            ruleName: `${args.namePrefix}-stale`,
            description: `§2.13.2: a NAS backup target has had no successful backup for ${nasStaleAfterHours} h (RPO ${backupPolicy.rpoHours.value} h + 2 h).`,
            query: nasBackupStaleQuery(args.targets, nasStaleAfterHours),
            frequency: "PT1H",
            window: "P2D",
            dimension: "Target",
        },
        parent,
    );
    logAlert(
        `${name}-failures`,
        args,
        {
            ruleName: `${args.namePrefix}-failures`,
            description: `§2.15: a NAS backup, prune, verification or restore drill failed (a drill also fails when it takes longer than the RTO of ${backupPolicy.rtoHours.value} h, §2.13.1).`,
            query: nasFailureQuery(args.targets),
            frequency: "PT15M",
            window: "PT15M",
            dimension: "Target",
        },
        parent,
    );
    logAlert(
        `${name}-job-failures`,
        args,
        {
            ruleName: `${args.namePrefix}-job-failures`,
            description:
                "§2.15: an execution of a NAS backup, prune, verify, restore drill or status job failed, also one that logged " +
                "nothing itself (killed by its replica timeout, image pull, secret or mount failure).",
            query: nasJobFailureQuery(args.jobNames),
            frequency: "PT15M",
            window: "PT15M",
            dimension: "Job",
        },
        parent,
    );
}
