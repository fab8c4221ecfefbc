import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { backupPolicy } from "../policy";
import { routeAlerts } from "./alertRouting";
import { rpoAlertGraceHours } from "./settings";

export interface BackupAlertsArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly tags: Record<string, string>;
    /** Who is told: e-mail addresses (validated; at least one). */
    readonly emailReceivers: readonly string[];
    /** The vault whose built-in backup alerts are routed to the action group. */
    readonly vaultId: pulumi.Input<string>;
    /** Its name (the RPO alert's query selects the vault's log rows by it; known during preview). */
    readonly vaultName: string;
    /** The shares whose newest successful backup the RPO alert watches. */
    readonly shareNames: readonly string[];
    /** The workspace that receives the vault's resource-specific backup tables. */
    readonly logAnalyticsWorkspaceId: pulumi.Input<string>;
}

/** Name of the action group that tells the backup operators. */
export const backupAlertsActionGroupName = "backup-operators";

/** Hours after the last successful backup at which the RPO alert fires: the RPO plus a small grace. */
export const rpoAlertThresholdHours = backupPolicy.rpoHours.value + rpoAlertGraceHours;

/**
 * The RPO alert's query (pure, tested directly): one row per configured share whose newest successful
 * Azure Backup job (AddonAzureBackupJobs, resource-specific) is older than the threshold or missing.
 * Share names come from CoreAzureBackup's BackupItem records (the job rows carry only the item id).
 */
export function rpoAlertQuery(vaultName: string, shareNames: readonly string[], thresholdHours: number): string {
    const shares = shareNames.map((share) => JSON.stringify(share)).join(", ");
    const vault = `/providers/microsoft.recoveryservices/vaults/${vaultName.toLowerCase()}`;
    return [
        `let threshold = ${thresholdHours}h;`,
        `let vault = ${JSON.stringify(vault)};`,
        "let items = CoreAzureBackup",
        '    | where tolower(_ResourceId) endswith vault and OperationName == "BackupItem" and BackupManagementType == "AzureStorage"',
        "    | summarize arg_max(TimeGenerated, BackupItemFriendlyName) by BackupItemUniqueId",
        "    | project BackupItemUniqueId, Share = BackupItemFriendlyName;",
        "let successes = AddonAzureBackupJobs",
        '    | where tolower(_ResourceId) endswith vault and JobOperation == "Backup"',
        '    | where JobStatus in ("Completed", "CompletedWithWarnings")',
        "    | summarize LastSuccessfulBackup = max(JobStartDateTime) by BackupItemUniqueId;",
        "let known = items | join kind=leftouter successes on BackupItemUniqueId",
        "    | summarize LastSuccessfulBackup = max(LastSuccessfulBackup) by Share;",
        `datatable(Share: string) [${shares}]`,
        "| join kind=leftouter known on Share",
        "| where isnull(LastSuccessfulBackup) or LastSuccessfulBackup < ago(threshold)",
        "| project Share, LastSuccessfulBackup",
    ].join("\n");
}

/**
 * Backup failures reach a person (§2.13.2, §2.15): an action group with the configured receivers,
 * the vault's built-in backup alerts routed to it, and an RPO alert per share without a successful
 * backup within the RPO (plus grace).
 */
export class BackupAlerts extends pulumi.ComponentResource {
    public readonly actionGroupId: pulumi.Output<string>;

    constructor(name: string, args: BackupAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:BackupAlerts", name, {}, opts);
        const group = new azure.monitor.ActionGroup(
            `${name}-action-group`,
            {
                actionGroupName: backupAlertsActionGroupName,
                groupShortName: "backup-ops",
                resourceGroupName: args.resourceGroupName,
                location: "Global",
                enabled: true,
                emailReceivers: args.emailReceivers.map((emailAddress, index) => ({
                    name: `email-${index + 1}`,
                    emailAddress,
                    useCommonAlertSchema: true,
                })),
                tags: args.tags,
            },
            { parent: this },
        );
        routeAlerts(
            `${name}-vault-routing`,
            {
                resourceGroupName: args.resourceGroupName,
                tags: args.tags,
                ruleName: "backup-policy-vault-alerts",
                scopes: [args.vaultId],
                actionGroupId: group.id,
                description: "§2.15: every Azure Backup alert of the vault (failed jobs) to the backup operators.",
            },
            this,
        );
        this.rpoAlert(name, args, group.id);
        this.actionGroupId = group.id;
        this.registerOutputs({ actionGroupId: this.actionGroupId });
    }

    /** §2.13.2: one alert per share whose newest successful backup is older than the RPO plus grace (or missing). */
    private rpoAlert(name: string, args: BackupAlertsArgs, actionGroupId: pulumi.Output<string>): void {
        new azure.monitor.ScheduledQueryRule(
            `${name}-rpo`,
            {
                ruleName: "backup-policy-file-share-rpo",
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                kind: azure.monitor.Kind.LogAlert,
                description: `§2.13.2: a file share has had no successful backup for ${rpoAlertThresholdHours} h (RPO ${backupPolicy.rpoHours.value} h + ${rpoAlertGraceHours} h grace).`,
                severity: 1,
                enabled: true,
                scopes: [args.logAnalyticsWorkspaceId],
                evaluationFrequency: "PT1H",
                windowSize: "P2D",
                criteria: {
                    allOf: [
                        {
                            query: rpoAlertQuery(args.vaultName, args.shareNames, rpoAlertThresholdHours),
                            timeAggregation: azure.monitor.TimeAggregation.Count,
                            // ARM's word; the SDK's monitor.ConditionOperator is another API's enum ("gt").
                            operator: "GreaterThan",
                            threshold: 0,
                            dimensions: [
                                { name: "Share", operator: azure.monitor.DimensionOperator.Include, values: ["*"] },
                            ],
                            failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 },
                        },
                    ],
                },
                actions: { actionGroups: [actionGroupId] },
                tags: args.tags,
            },
            { parent: this },
        );
    }
}
