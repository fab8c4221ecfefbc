import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { backupPolicy } from "../policy";
import { workspaceDiagnostics } from "./diagnostics";
import { shareSoftDeleteRetentionDays, smbChannelEncryption, smbVersions, storageKeyExpirationDays } from "./settings";

export interface FileStorageArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly tags: Record<string, string>;
    /** Storage account name (3–24 lower-case letters and digits, globally unique). */
    readonly accountName: string;
    /** A geo-redundant storage SKU (GRS/GZRS family; validated before this is constructed). */
    readonly sku: string;
    /** The file shares (at least the policy's Documents & Images). */
    readonly shareNames: readonly string[];
    readonly shareQuotaGiB: number;
    /** Log Analytics workspace that receives the file service's logs (§2.15). */
    readonly logAnalyticsWorkspaceId: pulumi.Input<string>;
}

/**
 * The storage account's arguments (pure, tested directly). Accepted risk (README): public network
 * and shared-key access stay on, because vault-standard Azure Files backup supports neither a
 * restricted storage network nor key-less access.
 */
export function storageAccountArgs(args: FileStorageArgs): azure.storage.StorageAccountArgs {
    return {
        accountName: args.accountName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: azure.storage.Kind.StorageV2,
        sku: { name: args.sku },
        accessTier: azure.storage.AccessTier.Hot,
        enableHttpsTrafficOnly: true,
        // §2.9: TLS 1.2 is the strongest minimum Azure Storage accepts (TLS 1.3 cannot be enforced yet).
        minimumTlsVersion: backupPolicy.encryption.storageMinTls.value,
        allowBlobPublicAccess: false,
        allowCrossTenantReplication: false,
        allowSharedKeyAccess: true,
        // Azure reminds (activity log, Azure Policy) when a key is older than this; rotate it then.
        keyPolicy: { keyExpirationPeriodInDays: storageKeyExpirationDays },
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
    };
}

/** The file service's SMB settings (§2.9): SMB 3.1.1 only, AES-256-GCM channel encryption only. */
export const smbProtocolSettings = { smb: { versions: smbVersions, channelEncryption: smbChannelEncryption } };

/**
 * "Documents & Images" (§2.5.1.1): SMB file shares in a geo-redundant StorageV2 account with share
 * soft delete, encrypted transport (§2.9) and the file service's logs in the workspace (§2.15).
 */
export class FileStorage extends pulumi.ComponentResource {
    public readonly account: azure.storage.StorageAccount;
    public readonly shares: readonly { readonly shareName: string; readonly share: azure.storage.FileShare }[];

    constructor(name: string, args: FileStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:FileStorage", name, {}, opts);

        // Protected: requireInfrastructureEncryption is creation-only, and the account holds the shares.
        this.account = new azure.storage.StorageAccount(`${name}-storage`, storageAccountArgs(args), {
            parent: this,
            protect: true,
        });
        const fileService = new azure.storage.FileServiceProperties(
            `${name}-file-service`,
            {
                accountName: this.account.name,
                resourceGroupName: args.resourceGroupName,
                fileServicesName: "default",
                shareDeleteRetentionPolicy: { enabled: true, days: shareSoftDeleteRetentionDays },
                protocolSettings: smbProtocolSettings,
            },
            { parent: this },
        );
        this.shares = args.shareNames.map((shareName) => ({
            shareName,
            share: new azure.storage.FileShare(
                `${name}-share-${shareName}`,
                {
                    shareName,
                    accountName: this.account.name,
                    resourceGroupName: args.resourceGroupName,
                    shareQuota: args.shareQuotaGiB,
                    enabledProtocols: azure.storage.EnabledProtocols.SMB,
                },
                // Soft delete is on before the first share exists.
                { parent: this, protect: true, dependsOn: [fileService] },
            ),
        }));
        workspaceDiagnostics(
            `${name}-file-diagnostics`,
            {
                resourceUri: pulumi.interpolate`${this.account.id}/fileServices/default`,
                workspaceId: args.logAnalyticsWorkspaceId,
                metricCategories: ["Transaction"],
            },
            this,
        );
        this.registerOutputs({
            accountName: this.account.name,
            shareNames: this.shares.map(({ share }) => share.name),
        });
    }
}
