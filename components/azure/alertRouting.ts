import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";

export interface AlertRoutingArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly tags: Record<string, string>;
    /** Name of the alert processing rule. */
    readonly ruleName: string;
    /** Resources (ARM ids) whose fired alerts are routed. */
    readonly scopes: readonly pulumi.Input<string>[];
    readonly actionGroupId: pulumi.Input<string>;
    readonly description: string;
}

/**
 * Routes every alert fired on `scopes` to an action group: an alert processing rule. Azure Backup's
 * built-in Azure Monitor alerts have no action of their own; without such a rule they reach nobody
 * (Azure Backup monitoring documentation). The one helper every component uses for alert routing.
 */
export function routeAlerts(
    name: string,
    args: AlertRoutingArgs,
    parent: pulumi.Resource,
): azure.alertsmanagement.AlertProcessingRuleByName {
    return new azure.alertsmanagement.AlertProcessingRuleByName(
        name,
        {
            alertProcessingRuleName: args.ruleName,
            resourceGroupName: args.resourceGroupName,
            location: "Global",
            properties: {
                enabled: true,
                description: args.description,
                scopes: [...args.scopes],
                actions: [{ actionType: "AddActionGroups", actionGroupIds: [args.actionGroupId] }],
            },
            tags: args.tags,
        },
        { parent },
    );
}
