/**
 * The one Pulumi program of this project. Pulumi.<stack>.yaml selects what it builds:
 * prod and trial on Azure (§2.5.1.1), staging on DigitalOcean (§2.5.1.2, stacks/digitalocean.ts).
 *
 * stacks/index.ts runs it under the Pulumi CLI; stacks/offline.ts runs the very same function under
 * mocks (tests, offline check).
 */
import * as pulumi from "@pulumi/pulumi";
import * as azureNative from "@pulumi/azure-native";
import { BackupAlerts } from "../components/azure/backupAlerts";
import { defaultDrillScratchQuotaGiB } from "../components/azure/drillScratch";
import { AzureNasBackup } from "../components/azure/nasBackup";
import { postgresRootCaBundle } from "../components/azure/postgresCa";
import { postgresPort } from "../components/azure/settings";
import { AzureEnvironment } from "../components/azure/environment";
import { FileShareProtection } from "../components/azure/fileShareProtection";
import { FileStorage } from "../components/azure/fileStorage";
import { PostgresServer } from "../components/azure/postgres";
import { RecoveryVault } from "../components/azure/recoveryVault";
import { backupPolicyTags } from "../components/azure/tags";
import { AzureStackConfig, StackConfig } from "./config";
import { digitalOceanStack, DigitalOceanStackOutputs } from "./digitalocean";

/** What `pulumi stack output` shows for prod/trial. Only the passwords are secret. */
export interface AzureStackOutputs {
    readonly resourceGroupName: pulumi.Output<string>;
    readonly postgresServerName: pulumi.Output<string>;
    readonly postgresServerFqdn: pulumi.Output<string>;
    readonly postgresDatabaseNames: pulumi.Output<string[]>;
    readonly postgresAdministratorLogin: string;
    /** Secret: encrypted in the state, shown only with `pulumi stack output --show-secrets`. */
    readonly postgresAdministratorPassword: pulumi.Output<string>;
    /** Secret: the restic key of every NAS repository of the stack; without it no NAS backup can be read. */
    readonly nasBackupRepositoryPassword: pulumi.Output<string>;
    readonly nasBackupJobNames: pulumi.Output<string[]>;
    readonly storageAccountName: pulumi.Output<string>;
    readonly fileShareNames: pulumi.Output<string[]>;
    readonly recoveryServicesVaultName: pulumi.Output<string>;
    readonly fileShareProtectionPolicyName: pulumi.Output<string>;
}

export type BackupPolicyStackOutputs = AzureStackOutputs | DigitalOceanStackOutputs;

/** Builds the stack described by a validated configuration and returns its outputs. */
export function backupPolicyStack(config: StackConfig): BackupPolicyStackOutputs {
    switch (config.platform) {
        case "azure":
            return azureStack(config);
        case "digitalocean":
            return digitalOceanStack(config);
    }
}

function azureStack(config: AzureStackConfig): AzureStackOutputs {
    const tags = backupPolicyTags({ environment: config.environment, dataClassification: config.dataClassification });
    const { azure } = config;

    const environment = new AzureEnvironment("azure", {
        resourceGroupName: azure.resourceGroup,
        location: azure.location,
        logAnalyticsWorkspaceName: azure.logAnalyticsWorkspace,
        virtualNetwork: { name: azure.network.name, addressSpace: azure.network.addressSpace },
        tags,
    });

    const postgres = azurePostgres(config, environment, tags);

    const { files, vault, protection, alerts } = fileShareBackup(config, environment, tags);

    const nas = nasBackup(config, { environment, postgres, files, alerts });

    return {
        resourceGroupName: environment.resourceGroupName,
        postgresServerName: postgres.serverName,
        postgresServerFqdn: postgres.fqdn,
        postgresDatabaseNames: postgres.databaseNames,
        postgresAdministratorLogin: postgres.administratorLogin,
        postgresAdministratorPassword: postgres.administratorPassword,
        storageAccountName: files.account.name,
        fileShareNames: pulumi.all(files.shares.map(({ share }) => share.name)),
        recoveryServicesVaultName: vault.vault.name,
        fileShareProtectionPolicyName: protection.policy.name,
        nasBackupRepositoryPassword: nas.repositoryPassword,
        nasBackupJobNames: nas.jobNames,
    };
}

/** The Flexible Server holding every service's databases, inside the VNet. */
function azurePostgres(
    config: AzureStackConfig,
    environment: AzureEnvironment,
    tags: Record<string, string>,
): PostgresServer {
    const { azure } = config;
    return new PostgresServer("postgres", {
        resourceGroupName: environment.resourceGroupName,
        location: azure.location,
        tags,
        serverName: azure.postgres.serverName,
        version: azure.postgres.version,
        sku: { name: azure.postgres.skuName, tier: azure.postgres.skuTier },
        storageSizeGB: azure.postgres.storageSizeGB,
        administratorLogin: azure.postgres.administratorLogin,
        zoneRedundantHighAvailability: azure.postgres.highAvailability === "ZoneRedundant",
        maintenanceWindow: azure.postgres.maintenanceWindow,
        databaseNames: config.databases.map((database) => database.name),
        network: {
            virtualNetworkName: environment.virtualNetworkName,
            virtualNetworkId: environment.virtualNetworkId,
            subnetName: "postgres",
            subnetPrefix: azure.network.postgresSubnet,
        },
        logAnalyticsWorkspaceId: environment.logAnalyticsWorkspaceId,
    });
}

/** The file shares, their backup into the Recovery Services vault and its alerts. */
function fileShareBackup(config: AzureStackConfig, environment: AzureEnvironment, tags: Record<string, string>) {
    const { azure } = config;
    const common = { resourceGroupName: environment.resourceGroupName, location: azure.location, tags };
    const workspaceId = environment.logAnalyticsWorkspaceId;
    const files = new FileStorage("files", {
        ...common,
        accountName: azure.storage.accountName,
        sku: azure.storage.sku,
        shareNames: config.shares,
        shareQuotaGiB: azure.storage.shareQuotaGiB,
        logAnalyticsWorkspaceId: workspaceId,
    });
    const vault = new RecoveryVault("files", {
        ...common,
        vaultName: azure.vault.name,
        immutability: azure.vault.immutability,
        softDelete: azure.vault.softDelete,
        logAnalyticsWorkspaceId: workspaceId,
    });
    const protection = new FileShareProtection("files", {
        resourceGroupName: environment.resourceGroupName,
        vault: vault.vault,
        account: files.account,
        shares: files.shares,
    });
    const alerts = new BackupAlerts("alerts", {
        ...common,
        emailReceivers: azure.alerts.emailReceivers,
        vaultId: vault.vault.id,
        vaultName: azure.vault.name,
        shareNames: config.shares,
        logAnalyticsWorkspaceId: workspaceId,
    });
    return { files, vault, protection, alerts };
}

/**
 * The NAS backups (§2.5.1.1): a job per database of every service (§2.14) and per share, inside the
 * VNet; the database over TLS verified against Flexible Server's root CAs, as its administrator.
 */
function nasBackup(
    config: AzureStackConfig,
    built: { environment: AzureEnvironment; postgres: PostgresServer; files: FileStorage; alerts: BackupAlerts },
): AzureNasBackup {
    const { azure, nasBackup: settings } = config;
    const { environment, postgres, files } = built;
    const secret = (value: string) => pulumi.secret(value);
    const keys = azureNative.storage.listStorageAccountKeysOutput({
        accountName: files.account.name,
        resourceGroupName: environment.resourceGroupName,
    });
    return new AzureNasBackup("nas", {
        resourceGroupName: environment.resourceGroupName,
        location: azure.location,
        tags: backupPolicyTags({ environment: config.environment, dataClassification: config.dataClassification }),
        environmentName: `nas-backup-${config.environment}`,
        network: {
            virtualNetworkName: environment.virtualNetworkName,
            virtualNetworkId: environment.virtualNetworkId,
            subnetName: "container-apps",
            subnetPrefix: azure.network.containerAppsSubnet,
            createdAfter: postgres.subnet,
        },
        logAnalyticsWorkspaceId: environment.logAnalyticsWorkspaceId,
        image: settings.image,
        dailyBackupTimeUtc: settings.dailyBackupTimeUtc,
        nas: {
            appendOnly: { ...settings.nas.appendOnly, password: secret(settings.nas.appendOnly.password) },
            maintenance: { ...settings.nas.maintenance, password: secret(settings.nas.maintenance.password) },
            caCertificate: settings.nas.caCertificate,
        },
        databases: config.databases.map((database) => ({
            name: database.name,
            host: postgres.fqdn,
            port: postgresPort,
            role: postgres.administratorLogin,
            password: postgres.administratorPassword,
            tls: { mode: "verify-full" as const, caCertificate: postgresRootCaBundle },
        })),
        fileShares: {
            storageAccountName: files.account.name,
            storageAccountKey: pulumi.secret(keys.keys[0].value),
            shares: config.shares.map((name) => ({ name })),
        },
        drillScratch: {
            accountName: settings.drillScratch.accountName,
            initImage: settings.drillScratch.initImage,
            endpointSubnetPrefix: settings.drillScratch.endpointSubnetPrefix,
            quotaGiB:
                settings.drillScratch.quotaGiB ??
                defaultDrillScratchQuotaGiB({
                    databaseServerGB: azure.postgres.storageSizeGB,
                    databases: config.databases.length,
                    shares: config.shares.length,
                    shareQuotaGiB: azure.storage.shareQuotaGiB,
                }),
        },
        actionGroupId: built.alerts.actionGroupId,
    });
}
