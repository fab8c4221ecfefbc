/**
 * prod and trial, run offline with their real Pulumi.<stack>.yaml: what the Data Backup Policy
 * requires must be on the registered Azure resources.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import {
    geoRedundantStorageSkus,
    supportedPostgresVersions,
    vaultBackupLogCategories,
} from "../../components/azure/settings";
import { tagKeys } from "../../components/azure/tags";
import { OfflineRun, readStackFile, resourcesOfType, runStackOffline } from "../../stacks/offline";
import { input, only, childrenOf, onlyIn } from "../support/resources";

/** The component of the backed-up shares (the NAS backup has a drill scratch account of its own). */
const fileStorage = "backup-policy:azure:FileStorage";

const T = {
    resourceGroup: "azure-native:resources:ResourceGroup",
    workspace: "azure-native:operationalinsights:Workspace",
    virtualNetwork: "azure-native:network:VirtualNetwork",
    subnet: "azure-native:network:Subnet",
    dnsZone: "azure-native:privatedns:PrivateZone",
    dnsLink: "azure-native:privatedns:VirtualNetworkLink",
    dnsZoneGroup: "azure-native:network:PrivateDnsZoneGroup",
    server: "azure-native:dbforpostgresql:Server",
    configuration: "azure-native:dbforpostgresql:Configuration",
    database: "azure-native:dbforpostgresql:Database",
    diagnostics: "azure-native:monitor:DiagnosticSetting",
    lock: "azure-native:authorization:ManagementLockByScope",
    storageAccount: "azure-native:storage:StorageAccount",
    fileService: "azure-native:storage:FileServiceProperties",
    share: "azure-native:storage:FileShare",
    vault: "azure-native:recoveryservices:Vault",
    protectionPolicy: "azure-native:recoveryservices:ProtectionPolicy",
    container: "azure-native:recoveryservices:ProtectionContainer",
    protectedItem: "azure-native:recoveryservices:ProtectedItem",
    password: "random:index/randomPassword:RandomPassword",
} as const;

/** Resources that hold data or backups: Pulumi must never delete or replace them on its own. */
const stateful = [
    T.resourceGroup,
    T.workspace,
    T.server,
    T.database,
    T.storageAccount,
    T.share,
    T.vault,
    T.protectionPolicy,
    T.container,
    T.protectedItem,
];

/** ARM resources that cannot carry tags (child/proxy resources, extension resources). */
const untaggable = [
    T.subnet,
    T.dnsZoneGroup,
    T.configuration,
    T.database,
    T.diagnostics,
    T.lock,
    T.fileService,
    T.share,
    T.protectionPolicy,
    T.container,
    T.protectedItem,
    // Environment storages (the NAS jobs' read-only share mounts) have no tags in the API.
    "azure-native:app:ManagedEnvironmentsStorage",
];

/** The server's administrator password (the stack has other RandomPasswords, e.g. the NAS repository key). */
function administratorPassword(run: OfflineRun) {
    const [password] = resourcesOfType(run, T.password).filter((resource) => resource.name.endsWith("-admin-password"));
    if (password === undefined) throw new Error("no administrator password");
    return password;
}

describe.each(["prod", "trial"])("stack %s on Azure", (stack) => {
    let run: OfflineRun;
    const fileConfig = readStackFile(stack).config;
    const configured = {
        databases: fileConfig["backup-policy:databases"] as Record<string, string>,
        shares: fileConfig["backup-policy:shares"] as string[],
        environment: fileConfig["backup-policy:environment"] as string,
        dataClassification: fileConfig["backup-policy:dataClassification"] as string,
        immutability:
            (fileConfig["backup-policy:azure"] as { vault: { immutability?: string } }).vault.immutability ??
            "Unlocked",
    };

    beforeAll(async () => {
        run = await runStackOffline({ stack });
    });

    it("runs without error or warning", () => {
        expect(run.error).toBeUndefined();
        expect(run.log.filter((entry) => entry.severity === "warning" || entry.severity === "error")).toEqual([]);
        expect(run.resources.length).toBeGreaterThan(0);
    });

    describe("PostgreSQL Flexible Server (§2.5.1.1)", () => {
        it("keeps daily backups for the policy's retention, geo-redundantly, in North Europe", () => {
            const server = only(run, T.server);
            expect(input(server, "backup.backupRetentionDays")).toBe(backupPolicy.database.retentionDays.value);
            expect(input(server, "backup.geoRedundantBackup")).toBe("Enabled");
            expect(input(server, "location")).toBe(backupPolicy.regions.azure.value);
        });

        it("runs a supported major version (16 or newer)", () => {
            const version = input(only(run, T.server), "version") as string;
            expect(supportedPostgresVersions).toContain(version);
            expect(Number(version)).toBeGreaterThanOrEqual(16);
        });

        it("is reachable only privately: delegated subnet, private DNS zone linked to the VNet, public access off", () => {
            const server = only(run, T.server);
            const [subnet] = resourcesOfType(run, T.subnet).filter((r) => r.name === "postgres-network-subnet");
            // The drill scratch share has a zone and link of its own (test/azure/nasBackup.test.ts).
            const [zone] = resourcesOfType(run, T.dnsZone).filter((r) => r.name === "postgres-network-dns");
            const [link] = resourcesOfType(run, T.dnsLink).filter((r) => r.name === "postgres-network-dns-link");
            const vnet = only(run, T.virtualNetwork);
            expect(input(server, "network.publicNetworkAccess")).toBe("Disabled");
            expect(input(server, "network.delegatedSubnetResourceId")).toBe(subnet.id);
            expect(input(subnet, "delegations.0.serviceName")).toBe("Microsoft.DBforPostgreSQL/flexibleServers");
            expect(input(server, "network.privateDnsZoneArmResourceId")).toBe(zone.id);
            expect(input(zone, "privateZoneName")).toMatch(/\.private\.postgres\.database\.azure\.com$/);
            expect(input(link, "privateZoneName")).toBe(input(zone, "privateZoneName"));
            expect(input(link, "virtualNetwork.id")).toBe(vnet.id);
            // The link must exist before the server is created.
            expect(server.options.dependsOn).toContain(link.urn);
        });

        it("enforces encrypted transport with the policy's minimum TLS version (§2.9)", () => {
            const settings = Object.fromEntries(
                resourcesOfType(run, T.configuration).map((configuration) => [
                    input(configuration, "configurationName"),
                    input(configuration, "value"),
                ]),
            );
            expect(settings).toMatchObject({
                require_secure_transport: "on",
                ssl_min_protocol_version: backupPolicy.encryption.databaseMinTls.value,
            });
            for (const configuration of resourcesOfType(run, T.configuration)) {
                expect(input(configuration, "serverName")).toBe(input(only(run, T.server), "serverName"));
            }
        });

        it("has one database for the main service and one per side service (§2.14), from the config", () => {
            const databases = resourcesOfType(run, T.database).map((database) => input(database, "databaseName"));
            expect([...databases].sort()).toEqual(Object.values(configured.databases).sort());
            for (const service of ["main", ...backupPolicy.sideServices.value]) {
                expect(databases).toContain(configured.databases[service]);
            }
        });

        it("gets its administrator password from @pulumi/random, only as a secret", () => {
            const server = only(run, T.server);
            const password = administratorPassword(run);
            expect(server.secretInputs).toContain("administratorLoginPassword");
            expect(password.secretOutputs).toContain("result");
            expect(input(server, "administratorLoginPassword")).toBe(password.outputs.result);
        });

        it("sends its logs to the Log Analytics workspace, which keeps them for the documented period (§2.15)", () => {
            const server = only(run, T.server);
            const workspace = only(run, T.workspace);
            const diagnostics = resourcesOfType(run, T.diagnostics).find(
                (setting) => input(setting, "resourceUri") === server.id,
            );
            expect(diagnostics).toBeDefined();
            expect(input(diagnostics!, "workspaceId")).toBe(workspace.id);
            expect(input(diagnostics!, "logs.0.enabled")).toBe(true);
            expect(input(workspace, "retentionInDays")).toBe(backupPolicy.logging.retentionDays.value);
        });

        it("carries a CanNotDelete lock", () => {
            const lock = only(run, T.lock);
            expect(input(lock, "scope")).toBe(only(run, T.server).id);
            expect(input(lock, "level")).toBe("CanNotDelete");
        });
    });

    describe("file shares and their backup (§2.5.1.1)", () => {
        it("keeps the shares in a geo-redundant, HTTPS-only StorageV2 account with infrastructure encryption", () => {
            const account = onlyIn(run, fileStorage, T.storageAccount);
            expect(input(account, "kind")).toBe("StorageV2");
            expect(geoRedundantStorageSkus).toContain(input(account, "sku.name"));
            expect(input(account, "enableHttpsTrafficOnly")).toBe(true);
            expect(input(account, "minimumTlsVersion")).toBe(backupPolicy.encryption.storageMinTls.value);
            expect(input(account, "encryption.requireInfrastructureEncryption")).toBe(true);
            expect(input(account, "allowBlobPublicAccess")).toBe(false);
        });

        it("has share soft delete on and the configured shares, Documents & Images among them", () => {
            const fileService = onlyIn(run, fileStorage, T.fileService);
            expect(input(fileService, "shareDeleteRetentionPolicy.enabled")).toBe(true);
            const shares = childrenOf(run, fileStorage, T.share).map((share) => input(share, "shareName"));
            expect(shares).toEqual(configured.shares);
            expect(shares).toEqual(expect.arrayContaining([...backupPolicy.fileResources.value]));
            for (const share of childrenOf(run, fileStorage, T.share)) {
                expect(share.options.dependsOn).toContain(fileService.urn);
            }
        });

        it("backs up into a geo-redundant vault with cross-region restore, soft delete and immutability", () => {
            const vault = only(run, T.vault);
            expect(input(vault, "location")).toBe(backupPolicy.regions.azure.value);
            expect(input(vault, "properties.redundancySettings.standardTierStorageRedundancy")).toBe("GeoRedundant");
            expect(input(vault, "properties.redundancySettings.crossRegionRestore")).toBe("Enabled");
            expect(["Enabled", "AlwaysON"]).toContain(
                input(vault, "properties.securitySettings.softDeleteSettings.softDeleteState"),
            );
            expect(input(vault, "properties.securitySettings.immutabilitySettings.state")).toBe(
                configured.immutability,
            );
            expect(input(vault, "properties.publicNetworkAccess")).toBe("Disabled");
            expect(
                input(vault, "properties.monitoringSettings.azureMonitorAlertSettings.alertsForAllJobFailures"),
            ).toBe("Enabled");
        });

        it("sends the vault's backup log categories to the workspace (§2.15)", () => {
            const vault = only(run, T.vault);
            const diagnostics = resourcesOfType(run, T.diagnostics).find(
                (setting) => input(setting, "resourceUri") === vault.id,
            );
            expect(diagnostics).toBeDefined();
            expect(input(diagnostics!, "workspaceId")).toBe(only(run, T.workspace).id);
            const logs = input(diagnostics!, "logs") as { category: string; enabled: boolean }[];
            expect(logs.filter((log) => log.enabled).map((log) => log.category)).toEqual(
                expect.arrayContaining([...vaultBackupLogCategories]),
            );
        });

        it("backs up daily at a fixed time and keeps dailies 30 days and the first Sunday's backup 6 months", () => {
            const policy = only(run, T.protectionPolicy);
            expect(input(policy, "vaultName")).toBe(input(only(run, T.vault), "vaultName"));
            expect(input(policy, "properties.backupManagementType")).toBe("AzureStorage");
            expect(input(policy, "properties.workLoadType")).toBe("AzureFileShare");
            expect(input(policy, "properties.schedulePolicy.scheduleRunFrequency")).toBe("Daily");
            const [time, ...more] = input(policy, "properties.schedulePolicy.scheduleRunTimes") as string[];
            expect(more).toEqual([]);
            // The form Azure returns (no milliseconds), so a preview after `pulumi up` shows no diff.
            expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:(00|30):00Z$/);

            const retention = "properties.vaultRetentionPolicy.vaultRetention";
            expect(input(policy, `${retention}.dailySchedule.retentionDuration`)).toEqual({
                count: backupPolicy.fileShares.dailyRetentionDays.value,
                durationType: "Days",
            });
            expect(input(policy, `${retention}.dailySchedule.retentionTimes`)).toEqual([time]);
            expect(input(policy, `${retention}.monthlySchedule.retentionScheduleFormatType`)).toBe("Weekly");
            expect(input(policy, `${retention}.monthlySchedule.retentionScheduleWeekly`)).toEqual({
                daysOfTheWeek: [backupPolicy.fileShares.monthlyAnchor.value.dayOfWeek],
                weeksOfTheMonth: [backupPolicy.fileShares.monthlyAnchor.value.weekOfMonth],
            });
            expect(input(policy, `${retention}.monthlySchedule.retentionDuration`)).toEqual({
                count: backupPolicy.fileShares.monthlyRetentionMonths.value,
                durationType: "Months",
            });
            expect(input(policy, `${retention}.monthlySchedule.retentionTimes`)).toEqual([time]);
            // The policy text, literally: dailies 30 days; First Sunday; 6 Months.
            expect(backupPolicy.fileShares.dailyRetentionDays.value).toBe(30);
            expect(backupPolicy.fileShares.monthlyAnchor.value).toEqual({ weekOfMonth: "First", dayOfWeek: "Sunday" });
            expect(backupPolicy.fileShares.monthlyRetentionMonths.value).toBe(6);
        });

        it("registers the storage account as a protection container and protects each share once with the policy", () => {
            const account = onlyIn(run, fileStorage, T.storageAccount);
            const container = only(run, T.container);
            const policy = only(run, T.protectionPolicy);
            expect(input(container, "properties.containerType")).toBe("StorageContainer");
            expect(input(container, "properties.sourceResourceId")).toBe(account.id);

            const items = resourcesOfType(run, T.protectedItem);
            expect(items.map((item) => input(item, "properties.friendlyName")).sort()).toEqual(
                [...configured.shares].sort(),
            );
            for (const item of items) {
                expect(input(item, "properties.protectedItemType")).toBe("AzureFileShareProtectedItem");
                expect(input(item, "properties.sourceResourceId")).toBe(account.id);
                expect(input(item, "properties.policyId")).toBe(policy.id);
                expect(input(item, "containerName")).toBe(input(container, "containerName"));
                expect(item.options.dependsOn).toContain(container.urn);
            }
        });
    });

    it("protects every stateful resource", () => {
        for (const type of stateful) {
            const resources = resourcesOfType(run, type);
            expect(resources.length, type).toBeGreaterThan(0);
            for (const resource of resources) {
                expect(resource.options.protect, `${type} ${resource.name}`).toBe(true);
            }
        }
    });

    it("tags every taggable Azure resource with environment, data classification and policy version", () => {
        const taggable = run.resources.filter(
            (resource) => resource.type.startsWith("azure-native:") && !untaggable.includes(resource.type as never),
        );
        expect(taggable.length).toBeGreaterThan(0);
        for (const resource of taggable) {
            // toMatchObject: the NAS backup jobs also carry the NAS backup declaration (test/azure/nasBackup.test.ts).
            expect(resource.inputs.tags, `${resource.type} ${resource.name}`).toMatchObject({
                [tagKeys.environment]: configured.environment,
                [tagKeys.dataClassification]: configured.dataClassification,
                [tagKeys.policyVersion]: backupPolicy.version.value,
            });
        }
    });

    it("builds everything from backup-policy:azure components", () => {
        const components = run.resources.filter((resource) => !resource.custom).map((resource) => resource.type);
        expect(components.length).toBeGreaterThan(0);
        for (const type of components) {
            expect(type).toMatch(/^backup-policy:azure:[A-Z]\w+$/);
        }
        for (const resource of run.resources.filter((resource) => resource.custom)) {
            expect(resource.options.parent, resource.name).not.toBe(run.stackUrn);
        }
    });

    it("outputs what a user needs, the password only as a secret", () => {
        const server = only(run, T.server);
        expect(run.outputs).toMatchObject({
            postgresServerFqdn: server.outputs.fullyQualifiedDomainName,
            postgresDatabaseNames: Object.values(configured.databases),
            recoveryServicesVaultName: input(only(run, T.vault), "vaultName"),
            fileShareProtectionPolicyName: input(only(run, T.protectionPolicy), "policyName"),
            fileShareNames: configured.shares,
        });
        expect(run.outputs.postgresServerFqdn).toMatch(/\.postgres\.database\.azure\.com$/);
        expect([...run.secretOutputs].sort()).toEqual(["nasBackupRepositoryPassword", "postgresAdministratorPassword"]);
        const password = administratorPassword(run).outputs.result as string;
        const plaintext = Object.entries(run.outputs).filter(([name]) => !run.secretOutputs.includes(name));
        expect(JSON.stringify(plaintext)).not.toContain(password);
        // Nor in any input that is not marked secret.
        for (const resource of run.resources) {
            const open = Object.entries(resource.inputs).filter(([name]) => !resource.secretInputs.includes(name));
            expect(JSON.stringify(open), resource.name).not.toContain(password);
        }
    });
});
