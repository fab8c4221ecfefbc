import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { workspaceDiagnostics } from "./diagnostics";
import { vaultBackupLogCategories, vaultSoftDeleteRetentionDays, VaultImmutability, VaultSoftDelete } from "./settings";

export interface RecoveryVaultArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly tags: Record<string, string>;
    readonly vaultName: string;
    /** "Unlocked" or "Locked" – Locked can never be undone. */
    readonly immutability: VaultImmutability;
    /** "Enabled" or "AlwaysON" – AlwaysON can never be undone. */
    readonly softDelete: VaultSoftDelete;
    /** Log Analytics workspace that receives the vault's backup logs (§2.15). */
    readonly logAnalyticsWorkspaceId: pulumi.Input<string>;
}

/**
 * §2.15: Azure Monitor alerts for every failed backup job. Vault API versions from 2024-02-01 reject a
 * partial monitoringSettings (Azure/bicep #14380), so all five fields are set, as the Azure Verified
 * Module for the vault does. The classic alerts are retired in favour of Azure Monitor alerts.
 */
export const vaultMonitoringSettings = {
    azureMonitorAlertSettings: {
        alertsForAllJobFailures: azure.recoveryservices.AlertsState.Enabled,
        alertsForAllReplicationIssues: azure.recoveryservices.AlertsState.Enabled,
        alertsForAllFailoverIssues: azure.recoveryservices.AlertsState.Enabled,
    },
    classicAlertSettings: {
        alertsForCriticalOperations: azure.recoveryservices.AlertsState.Disabled,
        emailNotificationsForSiteRecovery: azure.recoveryservices.AlertsState.Disabled,
    },
} as const;

/** The vault's properties (pure, tested directly). */
export function vaultProperties(
    args: Pick<RecoveryVaultArgs, "immutability" | "softDelete">,
): azure.types.input.recoveryservices.VaultPropertiesArgs {
    return {
        publicNetworkAccess: azure.recoveryservices.PublicNetworkAccess.Disabled,
        // §2.5.1.1: all backups stored geo-redundantly; restorable in the paired region.
        redundancySettings: {
            standardTierStorageRedundancy: azure.recoveryservices.StandardTierStorageRedundancy.GeoRedundant,
            crossRegionRestore: azure.recoveryservices.CrossRegionRestore.Enabled,
        },
        securitySettings: {
            // "AlwaysON" can never be switched off again, like immutability "Locked".
            softDeleteSettings: {
                softDeleteState: args.softDelete,
                softDeleteRetentionPeriodInDays: vaultSoftDeleteRetentionDays,
                enhancedSecurityState: azure.recoveryservices.EnhancedSecurityState.Enabled,
            },
            // Recovery points cannot be deleted or shortened before they expire.
            immutabilitySettings: { state: args.immutability },
        },
        monitoringSettings: vaultMonitoringSettings,
    };
}

/**
 * The Recovery Services vault that holds the file-share backups (§2.5.1.1): geo-redundant with
 * cross-region restore, soft delete and immutability, backup alerts on, logs to the workspace.
 */
export class RecoveryVault extends pulumi.ComponentResource {
    public readonly vault: azure.recoveryservices.Vault;

    constructor(name: string, args: RecoveryVaultArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:RecoveryVault", name, {}, opts);

        // Protected: the storage redundancy is fixed once anything is protected, and the vault holds the backups.
        this.vault = new azure.recoveryservices.Vault(
            `${name}-vault`,
            {
                vaultName: args.vaultName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                sku: { name: azure.recoveryservices.SkuName.RS0, tier: "Standard" },
                properties: vaultProperties(args),
                tags: args.tags,
            },
            { parent: this, protect: true },
        );
        // §2.15: the backup log categories in resource-specific tables (the RPO alert queries them).
        workspaceDiagnostics(
            `${name}-vault-diagnostics`,
            {
                resourceUri: this.vault.id,
                workspaceId: args.logAnalyticsWorkspaceId,
                logCategories: vaultBackupLogCategories,
                dedicatedTables: true,
            },
            this,
        );
        this.registerOutputs({ vaultName: this.vault.name });
    }
}
