import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { backupPolicy } from "../policy";
import {
    dailyFileShareBackupTime,
    fileShareBackupTimeZone,
    fileShareSnapshotRetentionDays,
    shareSoftDeleteRetentionDays,
    vaultBackupLogCategories,
    vaultSoftDeleteRetentionDays,
    VaultImmutability,
} from "./settings";

export interface FileShareBackupArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly tags: Record<string, string>;
    /** Storage account name (3–24 lower-case letters and digits, globally unique). */
    readonly storageAccountName: string;
    /** A geo-redundant storage SKU (GRS/GZRS family; validated before this is constructed). */
    readonly storageSku: string;
    /** The file shares (at least the policy's Documents & Images). */
    readonly shareNames: readonly string[];
    readonly shareQuotaGiB: number;
    readonly vaultName: string;
    /** "Unlocked" (default) or "Locked" – Locked can never be undone. */
    readonly vaultImmutability: VaultImmutability;
    /** Log Analytics workspace that receives the vault's backup logs (§2.15). */
    readonly logAnalyticsWorkspaceId: pulumi.Input<string>;
}

/** Name of the file-share protection policy in the vault. */
export const fileShareProtectionPolicyName = "file-shares-daily-monthly";

/**
 * "Documents & Images" (§2.5.1.1): SMB file shares in a geo-redundant StorageV2 account, backed up
 * daily by Azure Backup into a geo-redundant Recovery Services vault; dailies kept 30 days, the
 * backup of the first Sunday of each month kept 6 months.
 *
 * Backup tier: **vault-standard** (vaulted backup), not snapshot. Each daily backup is copied out of
 * the storage account into the Recovery Services vault, whose storage is GeoRedundant (fixed when
 * the vault is created) with cross-region restore: every recovery point the policy counts (the 30
 * dailies, the 6 monthlies) is therefore stored geo-redundantly in the vault, survives deletion or
 * encryption of the storage account, and is covered by the vault's soft delete and immutability.
 * Additionally each backup stays a few days as a share snapshot in the storage account, which is
 * itself geo-replicated (GRS/GZRS) – fast item-level restores. The snapshot tier would keep every
 * recovery point only as a snapshot inside the storage account: geo-redundant only through the
 * account's SKU, gone with the account, and outside the vault's immutability.
 * Vault-standard limits (Azure, 2025): shares up to 10 TB and 10 million files; restores of a full
 * share to an alternate location (item-level restores come from the snapshots).
 */
export class FileShareBackup extends pulumi.ComponentResource {
    public readonly storageAccountName: pulumi.Output<string>;
    public readonly shareNames: pulumi.Output<string[]>;
    public readonly vaultName: pulumi.Output<string>;
    public readonly protectionPolicyName: pulumi.Output<string>;

    constructor(name: string, args: FileShareBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:FileShareBackup", name, {}, opts);

        // Protected: requireInfrastructureEncryption can only be set when the account is created,
        // and the account holds the shares.
        const account = new azure.storage.StorageAccount(
            `${name}-storage`,
            {
                accountName: args.storageAccountName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                kind: azure.storage.Kind.StorageV2,
                sku: { name: args.storageSku },
                accessTier: azure.storage.AccessTier.Hot,
                enableHttpsTrafficOnly: true,
                // §2.9 asks for the strongest transport encryption; Azure Storage cannot enforce
                // TLS 1.3 as the minimum yet, TLS 1.2 is the strongest minimum it accepts.
                minimumTlsVersion: backupPolicy.encryption.storageMinTls.value,
                allowBlobPublicAccess: false,
                // Vaulted Azure Files backup and restore need storage-account-key access (Azure docs).
                allowSharedKeyAccess: true,
                encryption: {
                    keySource: azure.storage.KeySource.Microsoft_Storage,
                    // Creation-only: a second, infrastructure-level encryption layer (§2.9).
                    requireInfrastructureEncryption: true,
                    services: {
                        file: { enabled: true, keyType: azure.storage.KeyType.Account },
                        blob: { enabled: true, keyType: azure.storage.KeyType.Account },
                    },
                },
                tags: args.tags,
            },
            { parent: this, protect: true },
        );

        const fileService = new azure.storage.FileServiceProperties(
            `${name}-file-service`,
            {
                accountName: account.name,
                resourceGroupName: args.resourceGroupName,
                fileServicesName: "default",
                shareDeleteRetentionPolicy: { enabled: true, days: shareSoftDeleteRetentionDays },
            },
            { parent: this },
        );

        const shares = args.shareNames.map(
            (shareName) =>
                new azure.storage.FileShare(
                    `${name}-share-${shareName}`,
                    {
                        shareName,
                        accountName: account.name,
                        resourceGroupName: args.resourceGroupName,
                        shareQuota: args.shareQuotaGiB,
                        enabledProtocols: azure.storage.EnabledProtocols.SMB,
                    },
                    // Soft delete is on before the first share exists.
                    { parent: this, protect: true, dependsOn: [fileService] },
                ),
        );

        // Protected: the storage redundancy of a vault can only be chosen before anything is
        // protected in it, and the vault holds the backups.
        const vault = new azure.recoveryservices.Vault(
            `${name}-vault`,
            {
                vaultName: args.vaultName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                sku: { name: azure.recoveryservices.SkuName.RS0, tier: "Standard" },
                properties: {
                    publicNetworkAccess: azure.recoveryservices.PublicNetworkAccess.Disabled,
                    // §2.5.1.1: all backups stored geo-redundantly; restorable in the paired region.
                    redundancySettings: {
                        standardTierStorageRedundancy:
                            azure.recoveryservices.StandardTierStorageRedundancy.GeoRedundant,
                        crossRegionRestore: azure.recoveryservices.CrossRegionRestore.Enabled,
                    },
                    securitySettings: {
                        softDeleteSettings: {
                            softDeleteState: azure.recoveryservices.SoftDeleteState.Enabled,
                            softDeleteRetentionPeriodInDays: vaultSoftDeleteRetentionDays,
                            enhancedSecurityState: azure.recoveryservices.EnhancedSecurityState.Enabled,
                        },
                        // Recovery points cannot be deleted or shortened before they expire.
                        // "Locked" is irreversible: not even an administrator can switch it off.
                        immutabilitySettings: { state: args.vaultImmutability },
                    },
                    monitoringSettings: {
                        // §2.15: every failed backup or restore job raises an Azure Monitor alert.
                        azureMonitorAlertSettings: {
                            alertsForAllJobFailures: azure.recoveryservices.AlertsState.Enabled,
                        },
                        // The classic alerts are retired in favour of Azure Monitor alerts.
                        classicAlertSettings: {
                            alertsForCriticalOperations: azure.recoveryservices.AlertsState.Disabled,
                        },
                    },
                },
                tags: args.tags,
            },
            { parent: this, protect: true },
        );

        // §2.15: the backup log categories to the workspace, in resource-specific tables.
        new azure.monitor.DiagnosticSetting(
            `${name}-vault-diagnostics`,
            {
                name: "backup-policy-logs",
                resourceUri: vault.id,
                workspaceId: args.logAnalyticsWorkspaceId,
                logAnalyticsDestinationType: "Dedicated",
                logs: vaultBackupLogCategories.map((category) => ({ category, enabled: true })),
            },
            { parent: this },
        );

        const backupTime = dailyFileShareBackupTime;
        const anchor = backupPolicy.fileShares.monthlyAnchor.value;
        const policy = new azure.recoveryservices.ProtectionPolicy(
            `${name}-policy`,
            {
                policyName: fileShareProtectionPolicyName,
                vaultName: vault.name,
                resourceGroupName: args.resourceGroupName,
                properties: {
                    backupManagementType: "AzureStorage",
                    workLoadType: azure.recoveryservices.WorkloadType.AzureFileShare,
                    timeZone: fileShareBackupTimeZone,
                    // §2.5.1.1: automated full backups of the file shares, daily at a fixed time.
                    schedulePolicy: {
                        schedulePolicyType: "SimpleSchedulePolicy",
                        scheduleRunFrequency: azure.recoveryservices.ScheduleRunType.Daily,
                        scheduleRunTimes: [backupTime],
                    },
                    // Vault-standard tier (see the class comment): the retention below applies to
                    // the recovery points in the geo-redundant vault.
                    vaultRetentionPolicy: {
                        snapshotRetentionInDays: fileShareSnapshotRetentionDays,
                        vaultRetention: {
                            retentionPolicyType: "LongTermRetentionPolicy",
                            // §2.5.1.1: the daily backups are retained for 30 days.
                            dailySchedule: {
                                retentionTimes: [backupTime],
                                retentionDuration: {
                                    count: backupPolicy.fileShares.dailyRetentionDays.value,
                                    durationType: azure.recoveryservices.RetentionDurationType.Days,
                                },
                            },
                            // §2.5.1.1: the backup of the 1st Sunday of each month is kept 6 months.
                            monthlySchedule: {
                                retentionScheduleFormatType: azure.recoveryservices.RetentionScheduleFormat.Weekly,
                                retentionScheduleWeekly: {
                                    daysOfTheWeek: [anchor.dayOfWeek],
                                    weeksOfTheMonth: [anchor.weekOfMonth],
                                },
                                retentionTimes: [backupTime],
                                retentionDuration: {
                                    count: backupPolicy.fileShares.monthlyRetentionMonths.value,
                                    durationType: azure.recoveryservices.RetentionDurationType.Months,
                                },
                            },
                        },
                    },
                },
            },
            { parent: this, protect: true },
        );

        // Register the storage account with the vault before any of its shares is protected. The
        // Backup service then holds a delete lock on the account ("Acquire").
        const containerName = pulumi.interpolate`StorageContainer;Storage;${args.resourceGroupName};${account.name}`;
        const container = new azure.recoveryservices.ProtectionContainer(
            `${name}-container`,
            {
                containerName,
                fabricName: "Azure",
                vaultName: vault.name,
                resourceGroupName: args.resourceGroupName,
                properties: {
                    containerType: "StorageContainer",
                    backupManagementType: azure.recoveryservices.BackupManagementType.AzureStorage,
                    sourceResourceId: account.id,
                    friendlyName: account.name,
                    acquireStorageAccountLock: azure.recoveryservices.AcquireStorageAccountLock.Acquire,
                },
            },
            { parent: this, protect: true },
        );

        // One protected item per share; its source is the storage account, its policy the one above.
        shares.forEach(
            (share, index) =>
                new azure.recoveryservices.ProtectedItem(
                    `${name}-protect-${args.shareNames[index]}`,
                    {
                        protectedItemName: pulumi.interpolate`AzureFileShare;${share.name}`,
                        containerName: container.name,
                        fabricName: "Azure",
                        vaultName: vault.name,
                        resourceGroupName: args.resourceGroupName,
                        properties: {
                            protectedItemType: "AzureFileShareProtectedItem",
                            sourceResourceId: account.id,
                            policyId: policy.id,
                            friendlyName: share.name,
                        },
                    },
                    { parent: this, protect: true, dependsOn: [container, share] },
                ),
        );

        this.storageAccountName = account.name;
        this.shareNames = pulumi.all(shares.map((share) => share.name));
        this.vaultName = vault.name;
        this.protectionPolicyName = policy.name;
        this.registerOutputs({
            storageAccountName: this.storageAccountName,
            shareNames: this.shareNames,
            vaultName: this.vaultName,
            protectionPolicyName: this.protectionPolicyName,
        });
    }
}
