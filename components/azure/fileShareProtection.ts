import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { backupPolicy } from "../policy";
import { dailyFileShareBackupTime, fileShareBackupTimeZone, fileShareSnapshotRetentionDays } from "./settings";

export interface FileShareProtectionArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly vault: azure.recoveryservices.Vault;
    readonly account: azure.storage.StorageAccount;
    /** The shares to protect, with their names as configured. */
    readonly shares: readonly { readonly shareName: string; readonly share: azure.storage.FileShare }[];
}

/** Name of the file-share protection policy in the vault. */
export const fileShareProtectionPolicyName = "file-shares-daily-monthly";

/**
 * The AzureFileShare protection policy's properties, from the policy module (pure, tested directly).
 * §2.5.1.1: daily at a fixed time; dailies kept 30 days, the first Sunday's backup 6 months.
 * Vault-standard tier: the retention applies to the recovery points in the geo-redundant vault; a
 * short-lived snapshot stays in the storage account for quick item-level restores.
 */
export function protectionPolicyProperties(): azure.types.input.recoveryservices.AzureFileShareProtectionPolicyArgs {
    const time = dailyFileShareBackupTime;
    const anchor = backupPolicy.fileShares.monthlyAnchor.value;
    return {
        backupManagementType: "AzureStorage",
        workLoadType: azure.recoveryservices.WorkloadType.AzureFileShare,
        timeZone: fileShareBackupTimeZone,
        schedulePolicy: {
            schedulePolicyType: "SimpleSchedulePolicy",
            scheduleRunFrequency: azure.recoveryservices.ScheduleRunType.Daily,
            scheduleRunTimes: [time],
        },
        vaultRetentionPolicy: {
            snapshotRetentionInDays: fileShareSnapshotRetentionDays,
            vaultRetention: {
                retentionPolicyType: "LongTermRetentionPolicy",
                dailySchedule: {
                    retentionTimes: [time],
                    retentionDuration: {
                        count: backupPolicy.fileShares.dailyRetentionDays.value,
                        durationType: azure.recoveryservices.RetentionDurationType.Days,
                    },
                },
                monthlySchedule: {
                    retentionScheduleFormatType: azure.recoveryservices.RetentionScheduleFormat.Weekly,
                    retentionScheduleWeekly: {
                        daysOfTheWeek: [anchor.dayOfWeek],
                        weeksOfTheMonth: [anchor.weekOfMonth],
                    },
                    retentionTimes: [time],
                    retentionDuration: {
                        count: backupPolicy.fileShares.monthlyRetentionMonths.value,
                        durationType: azure.recoveryservices.RetentionDurationType.Months,
                    },
                },
            },
        },
    };
}

/**
 * Azure Backup of the file shares (§2.5.1.1, vault-standard tier): the protection policy, the storage
 * account registered with the vault (protection container) and one protected item per share.
 */
export class FileShareProtection extends pulumi.ComponentResource {
    public readonly policy: azure.recoveryservices.ProtectionPolicy;
    public readonly items: readonly azure.recoveryservices.ProtectedItem[];

    constructor(name: string, args: FileShareProtectionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:FileShareProtection", name, {}, opts);
        const vaultName = args.vault.name;

        this.policy = new azure.recoveryservices.ProtectionPolicy(
            `${name}-policy`,
            {
                policyName: fileShareProtectionPolicyName,
                vaultName,
                resourceGroupName: args.resourceGroupName,
                properties: protectionPolicyProperties(),
            },
            { parent: this, protect: true },
        );

        // Registers the account with the vault; Azure Backup then holds a delete lock on it ("Acquire").
        // After the shares: a share created later is not protectable until an "inquire" (README).
        const container = new azure.recoveryservices.ProtectionContainer(
            `${name}-container`,
            {
                containerName: pulumi.interpolate`StorageContainer;Storage;${args.resourceGroupName};${args.account.name}`,
                fabricName: "Azure",
                vaultName,
                resourceGroupName: args.resourceGroupName,
                properties: {
                    containerType: "StorageContainer",
                    backupManagementType: azure.recoveryservices.BackupManagementType.AzureStorage,
                    sourceResourceId: args.account.id,
                    friendlyName: args.account.name,
                    acquireStorageAccountLock: azure.recoveryservices.AcquireStorageAccountLock.Acquire,
                },
            },
            { parent: this, protect: true, dependsOn: args.shares.map(({ share }) => share) },
        );

        // Named by the plain share name: azure-native looks the system name (azurefileshare;<hash>) up
        // only for that name (custom_recoveryservices.go); "AzureFileShare;<share>" ends in a 404.
        this.items = args.shares.map(
            ({ shareName, share }) =>
                new azure.recoveryservices.ProtectedItem(
                    `${name}-protect-${shareName}`,
                    {
                        protectedItemName: share.name,
                        containerName: container.name,
                        fabricName: "Azure",
                        vaultName,
                        resourceGroupName: args.resourceGroupName,
                        properties: {
                            protectedItemType: "AzureFileShareProtectedItem",
                            sourceResourceId: args.account.id,
                            policyId: this.policy.id,
                            friendlyName: share.name,
                        },
                    },
                    { parent: this, protect: true, dependsOn: [container, share] },
                ),
        );
        this.registerOutputs({ policyName: this.policy.name });
    }
}
