import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { backupPolicy } from "../policy";

export interface AzureEnvironmentArgs {
    /** Name of the resource group that holds everything of this stack. */
    readonly resourceGroupName: string;
    /** Azure region (validated against the policy before this is constructed). */
    readonly location: string;
    /** Name of the Log Analytics workspace that receives the backup and database logs. */
    readonly logAnalyticsWorkspaceName: string;
    /** Name and address space (CIDR) of the stack's virtual network (private access to the database). */
    readonly virtualNetwork: { readonly name: string; readonly addressSpace: string };
    readonly tags: Record<string, string>;
}

/**
 * The resource group of one prod/trial stack, its virtual network (the database is reachable only
 * from inside it) and the Log Analytics workspace its backup and database logs go to (§2.15: backup
 * events visible; logs deleted after a documented period).
 */
export class AzureEnvironment extends pulumi.ComponentResource {
    public readonly resourceGroupName: pulumi.Output<string>;
    public readonly logAnalyticsWorkspaceId: pulumi.Output<string>;
    public readonly virtualNetworkName: pulumi.Output<string>;
    public readonly virtualNetworkId: pulumi.Output<string>;

    constructor(name: string, args: AzureEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:Environment", name, {}, opts);

        // Protected: deleting the group would delete every database, share and backup in it.
        const resourceGroup = new azure.resources.ResourceGroup(
            `${name}-rg`,
            { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags },
            { parent: this, protect: true },
        );

        // Protected: the workspace holds the backup logs the auditor reads (§2.15).
        const workspace = new azure.operationalinsights.Workspace(
            `${name}-logs`,
            {
                workspaceName: args.logAnalyticsWorkspaceName,
                resourceGroupName: resourceGroup.name,
                location: args.location,
                sku: { name: azure.operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
                retentionInDays: backupPolicy.logging.retentionDays.value,
                tags: args.tags,
            },
            { parent: this, protect: true },
        );

        // Subnets are separate resources (components add theirs). Without `subnets` here, the
        // provider keeps the subnets that exist instead of deleting them on every update.
        const virtualNetwork = new azure.network.VirtualNetwork(
            `${name}-vnet`,
            {
                virtualNetworkName: args.virtualNetwork.name,
                resourceGroupName: resourceGroup.name,
                location: args.location,
                addressSpace: { addressPrefixes: [args.virtualNetwork.addressSpace] },
                tags: args.tags,
            },
            { parent: this },
        );

        this.resourceGroupName = resourceGroup.name;
        this.logAnalyticsWorkspaceId = workspace.id;
        this.virtualNetworkName = virtualNetwork.name;
        this.virtualNetworkId = virtualNetwork.id;
        this.registerOutputs({
            resourceGroupName: this.resourceGroupName,
            logAnalyticsWorkspaceId: this.logAnalyticsWorkspaceId,
            virtualNetworkId: this.virtualNetworkId,
        });
    }
}
