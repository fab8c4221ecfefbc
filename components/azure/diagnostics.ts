import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";

/** Name of every diagnostic setting this project creates (one per resource). */
export const diagnosticSettingName = "backup-policy-logs";

export interface WorkspaceDiagnosticsArgs {
    /** The resource whose logs are sent (an ARM id; for a storage service: `<account id>/fileServices/default`). */
    readonly resourceUri: pulumi.Input<string>;
    readonly workspaceId: pulumi.Input<string>;
    /** Log categories; default: the category group `allLogs`. */
    readonly logCategories?: readonly string[];
    /** Metric categories (e.g. `AllMetrics`, `Transaction`); none by default. */
    readonly metricCategories?: readonly string[];
    /** Resource-specific tables ("Dedicated") instead of the shared AzureDiagnostics table. */
    readonly dedicatedTables?: boolean;
}

/**
 * §2.15: sends a resource's logs (and metrics) to the stack's Log Analytics workspace. The one
 * helper every component uses for its diagnostic settings (like the Azure Verified Modules'
 * common `diagnosticSettings` parameter).
 */
export function workspaceDiagnostics(
    name: string,
    args: WorkspaceDiagnosticsArgs,
    parent: pulumi.Resource,
): azure.monitor.DiagnosticSetting {
    return new azure.monitor.DiagnosticSetting(
        name,
        {
            name: diagnosticSettingName,
            resourceUri: args.resourceUri,
            workspaceId: args.workspaceId,
            ...(args.dedicatedTables ? { logAnalyticsDestinationType: "Dedicated" } : {}),
            logs: args.logCategories
                ? args.logCategories.map((category) => ({ category, enabled: true }))
                : [{ categoryGroup: "allLogs", enabled: true }],
            ...(args.metricCategories
                ? { metrics: args.metricCategories.map((category) => ({ category, enabled: true })) }
                : {}),
        },
        { parent },
    );
}
