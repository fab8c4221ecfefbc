/**
 * The one Pulumi program of this project. Pulumi.<stack>.yaml selects what it builds:
 * prod and trial on Azure (§2.5.1.1), staging on DigitalOcean (§2.5.1.2, not built here yet).
 *
 * stacks/index.ts runs it under the Pulumi CLI; stacks/offline.ts runs the very same function under
 * mocks (tests, offline check).
 */
import * as pulumi from "@pulumi/pulumi";
import { BackupAlerts } from "../components/azure/backupAlerts";
import { AzureEnvironment } from "../components/azure/environment";
import { FileShareProtection } from "../components/azure/fileShareProtection";
import { FileStorage } from "../components/azure/fileStorage";
import { PostgresServer } from "../components/azure/postgres";
import { RecoveryVault } from "../components/azure/recoveryVault";
import { backupPolicyTags } from "../components/azure/tags";
import { AzureStackConfig, DigitalOceanStackConfig, StackConfig } from "./config";

/** What `pulumi stack output` shows for prod/trial. Only the administrator password is secret. */
export interface AzureStackOutputs {
    readonly resourceGroupName: pulumi.Output<string>;
    readonly postgresServerName: pulumi.Output<string>;
    readonly postgresServerFqdn: pulumi.Output<string>;
    readonly postgresDatabaseNames: pulumi.Output<string[]>;
    readonly postgresAdministratorLogin: string;
    /** Secret: encrypted in the state, shown only with `pulumi stack output --show-secrets`. */
    readonly postgresAdministratorPassword: pulumi.Output<string>;
    readonly storageAccountName: pulumi.Output<string>;
    readonly fileShareNames: pulumi.Output<string[]>;
    readonly recoveryServicesVaultName: pulumi.Output<string>;
    readonly fileShareProtectionPolicyName: pulumi.Output<string>;
}

export type BackupPolicyStackOutputs = AzureStackOutputs | Record<string, never>;

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

    const postgres = new PostgresServer("postgres", {
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
    new BackupAlerts("alerts", {
        ...common,
        emailReceivers: azure.alerts.emailReceivers,
        vaultId: vault.vault.id,
        vaultName: azure.vault.name,
        shareNames: config.shares,
        logAnalyticsWorkspaceId: workspaceId,
    });

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
    };
}

/** Staging (§2.5.1.2): the configuration is validated; the resources come with a later change. */
function digitalOceanStack(config: DigitalOceanStackConfig): Record<string, never> {
    void pulumi.log.warn(
        `Stack "${config.stack}" (${config.environment}, DigitalOcean ${config.digitalocean.region}): the configuration is valid, ` +
            `but the DigitalOcean staging resources are not part of this program yet; nothing is created, changed or deleted.`,
    );
    return {};
}
