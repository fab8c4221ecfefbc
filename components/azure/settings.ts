/**
 * Azure facts that are not policy values: what the Azure services accept and the defaults this
 * repository chose. The policy's values (retention, anchors, regions, TLS minimums, ...) are in
 * ../policy.ts and nowhere else; the values here only say how Azure spells or limits them.
 */
import * as azure from "@pulumi/azure-native";
import { minimumPostgresMajorVersion, runnerPgDumpMajorVersion } from "../postgresVersions";

/**
 * Storage account SKUs whose data is replicated to the paired region (GRS/GZRS family, read-access
 * variants included): storage that is geo-redundant in the sense of §2.5.1.1. The policy pack's
 * `storage-geo-redundant-sku` rule accepts exactly these.
 */
export const geoRedundantStorageSkus: readonly string[] = [
    azure.storage.SkuName.Standard_GRS,
    azure.storage.SkuName.Standard_GZRS,
    azure.storage.SkuName.Standard_RAGRS,
    azure.storage.SkuName.Standard_RAGZRS,
    azure.storage.SkuName.StandardV2_GRS,
    azure.storage.SkuName.StandardV2_GZRS,
];

/**
 * The geo-redundant SKUs a stack may configure: the Standard_ ones, which a general-purpose v2
 * (StorageV2) account with SMB file shares can use (StandardV2_ belongs to FileStorage accounts).
 */
export const storageV2GeoRedundantSkus: readonly string[] = geoRedundantStorageSkus.filter((sku) =>
    sku.startsWith("Standard_"),
);

/**
 * The PostgreSQL major versions Azure Flexible Server offers (per the SDK) that are new enough and
 * that the NAS backup runner's pg_dump can dump.
 */
export const supportedPostgresVersions: readonly string[] = Object.values(azure.dbforpostgresql.PostgresMajorVersion)
    .filter((version) => Number(version) >= minimumPostgresMajorVersion && Number(version) <= runnerPgDumpMajorVersion)
    .sort((a, b) => Number(a) - Number(b));

/** Compute tiers of Azure Database for PostgreSQL – Flexible Server. */
export const postgresSkuTiers: readonly string[] = Object.values(azure.dbforpostgresql.SkuTier);

/** Storage sizes (GiB) Flexible Server accepts. */
export const postgresStorageSizesGB: readonly number[] = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];

/**
 * Recovery Services vault immutability states this repository allows. Immutability is always on:
 * "Unlocked" can still be switched off by an administrator, "Locked" can never be undone.
 */
export const vaultImmutabilityStates = ["Unlocked", "Locked"] as const;
export type VaultImmutability = (typeof vaultImmutabilityStates)[number];

/** Largest quota (GiB) of an SMB share in a standard account without large file shares enabled. */
export const maximumShareQuotaGiB = 5120;

/**
 * Time of day (UTC) at which Azure Backup takes the daily file-share backup. Azure wants a whole or
 * half hour; 01:00 UTC (02:00/03:00 in Germany) is outside working hours (§2.13.1).
 *
 * Written the way the Backup service returns it (ISO 8601, seconds, no milliseconds, "Z") so that
 * `pulumi preview` after `pulumi up` shows no diff. The date part is irrelevant to the schedule.
 */
export const dailyFileShareBackupTime = "2024-01-01T01:00:00Z";

/** Time zone of the file-share backup schedule, as Azure Backup names it. */
export const fileShareBackupTimeZone = "UTC";

/**
 * Days the vault-standard tier keeps each daily backup also as a share snapshot in the storage
 * account (for fast, item-level restores; Azure allows at most 30). The policy's retention is kept
 * in the vault; the snapshots are an extra, shorter copy.
 */
export const fileShareSnapshotRetentionDays = 7;

/** SMB protocol versions the file service accepts (§2.9): only SMB 3.1.1, whose encryption is the strongest. */
export const smbVersions = "SMB3.1.1";

/** SMB channel encryption the file service accepts (§2.9): only AES-256-GCM. */
export const smbChannelEncryption = "AES-256-GCM";

/**
 * Days after which Azure reports a storage account key as expired (key expiration policy): the
 * operators rotate the keys at least this often. Azure only flags the key; it does not rotate it.
 */
export const storageKeyExpirationDays = 90;

/** Days a deleted file share stays recoverable (share soft delete, 1–365). */
export const shareSoftDeleteRetentionDays = 14;

/** Days deleted backup data stays recoverable in the vault (vault soft delete, 14–180). */
export const vaultSoftDeleteRetentionDays = 14;

/**
 * The Recovery Services vault's diagnostic log categories that carry Azure Backup events: jobs,
 * alerts, policies, storage and protected instances (§2.15), sent to resource-specific tables.
 */
export const vaultBackupLogCategories: readonly string[] = [
    "CoreAzureBackup",
    "AddonAzureBackupJobs",
    "AddonAzureBackupAlerts",
    "AddonAzureBackupPolicy",
    "AddonAzureBackupStorage",
    "AddonAzureBackupProtectedInstance",
];

/** Subnet delegation a Flexible Server with private access needs. */
export const postgresSubnetDelegation = "Microsoft.DBforPostgreSQL/flexibleServers";

/** Suffix of the private DNS zone a Flexible Server with private access resolves in. */
export const postgresPrivateDnsZoneSuffix = "private.postgres.database.azure.com";

/** A weekly one-hour window (UTC) in which Azure may patch a Flexible Server; dayOfWeek 0 = Sunday. */
export interface PostgresMaintenanceWindow {
    readonly dayOfWeek: number;
    readonly startHour: number;
}

/**
 * Default maintenance window: Sunday 05:00 UTC (06:00/07:00 in Germany), outside working hours and
 * after the NAS database backups of the stacks' 23:30 UTC (stacks/config.ts checks it against the
 * configured backup time: nasJobSchedule.ts `maintenanceHoursOverlappingBackupUtc`).
 */
export const defaultPostgresMaintenanceWindow: PostgresMaintenanceWindow = { dayOfWeek: 0, startHour: 5 };

/** Vault soft-delete states a stack may choose: "AlwaysON" can never be switched off again. */
export const vaultSoftDeleteStates = ["Enabled", "AlwaysON"] as const;
export type VaultSoftDelete = (typeof vaultSoftDeleteStates)[number];

/**
 * Hours the RPO alert waits beyond the policy's RPO before it fires: the daily backup starts at
 * 01:00 UTC, runs for a while and Azure Backup's diagnostics data then reaches the workspace with a
 * delay. A chosen margin, not a number Azure publishes; the alert fires at the earliest
 * rpoHours + this after the start of the last successful backup.
 */
export const rpoAlertGraceHours = 2;

/**
 * Largest prefix length of a Container Apps environment's infrastructure subnet with workload profiles
 * (Microsoft.App/environments delegation): /27 is the smallest subnet Azure accepts for it (Microsoft
 * Learn, "Networking in Azure Container Apps environment": workload profiles /27, Consumption-only /23).
 */
export const containerAppsSubnetMaxPrefix = 27;

/** Subnet delegation a Container Apps environment with workload profiles needs. */
export const containerAppsSubnetDelegation = "Microsoft.App/environments";

/** The TCP port of Azure Database for PostgreSQL – Flexible Server. */
export const postgresPort = 5432;

/**
 * Quota (GiB) of a premium share in a FileStorage account (the only kind that holds NFS shares):
 * at least 100 GiB (azurerm `storage_share` quota "100-102400" for premium accounts; Microsoft does
 * not state the minimum in the sources checked), at most 100 TiB (Microsoft: azure-docs
 * includes/azure-storage-limits-filestorage.md, max provisioned size 100 TiB).
 */
export const premiumShareQuotaGiB = Object.freeze({ min: 100, max: 102_400 });

/**
 * The drill scratch share's account: NFS shares exist only as premium shares in a `FileStorage`
 * account (azure-docs storage/files/files-nfs-protocol.md; SupportArticles-docs
 * files-troubleshoot-linux-nfs.md "Unable to create an NFS share"), locally redundant (NFS shares do
 * not support GRS/GZRS, files-nfs-protocol.md).
 */
export const drillScratchAccount = Object.freeze({ kind: "FileStorage", sku: "Premium_LRS" });

/**
 * The private endpoint through which the environment reaches the scratch share (NFS, port 2049): its
 * group id (the account's file service) and the private DNS zone that resolves
 * `<account>.privatelink.file.core.windows.net` (the NFS server's name) to it.
 */
export const drillScratchPrivateLink = Object.freeze({ groupId: "file", dnsZone: "privatelink.file.core.windows.net" });
