/**
 * What a first real `pulumi up` of prod and trial needs beyond the mocks: provider name lookups,
 * creation order and Azure API shapes (see the comments in components/azure/*), and the hardening
 * of the storage account. Each test pins one fact that the mocks alone would not catch.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import { protectionPolicyProperties } from "../../components/azure/fileShareProtection";
import { smbProtocolSettings, storageAccountArgs } from "../../components/azure/fileStorage";
import { postgresServerParameters } from "../../components/azure/postgres";
import { vaultMonitoringSettings } from "../../components/azure/recoveryVault";
import { storageKeyExpirationDays } from "../../components/azure/settings";
import { maintenanceHoursOverlappingBackupUtc } from "../../components/azure/nasJobSchedule";
import { parseTimeOfDay } from "../../components/kubernetes/schedule";
import { OfflineResource, OfflineRun, readStackFile, resourcesOfType, runStackOffline } from "../../stacks/offline";
import { input, only, childrenOf, onlyIn } from "../support/resources";

/** The component of the backed-up shares (the NAS backup has a drill scratch account of its own). */
const fileStorage = "backup-policy:azure:FileStorage";

const T = {
    server: "azure-native:dbforpostgresql:Server",
    subnet: "azure-native:network:Subnet",
    configuration: "azure-native:dbforpostgresql:Configuration",
    database: "azure-native:dbforpostgresql:Database",
    diagnostics: "azure-native:monitor:DiagnosticSetting",
    storageAccount: "azure-native:storage:StorageAccount",
    fileService: "azure-native:storage:FileServiceProperties",
    share: "azure-native:storage:FileShare",
    vault: "azure-native:recoveryservices:Vault",
    container: "azure-native:recoveryservices:ProtectionContainer",
    protectedItem: "azure-native:recoveryservices:ProtectedItem",
} as const;

/** The server's children in creation order: each must depend on the one before (the first on the server). */
function serverChain(run: OfflineRun): OfflineResource[] {
    const children = [...resourcesOfType(run, T.configuration), ...resourcesOfType(run, T.database)];
    const chain: OfflineResource[] = [];
    let previous = only(run, T.server).urn;
    for (;;) {
        const next = children.filter((child) => child.options.dependsOn.includes(previous));
        if (next.length !== 1) break;
        chain.push(next[0]);
        previous = next[0].urn;
    }
    return chain;
}

describe.each(["prod", "trial"])("stack %s: the first pulumi up", (stack) => {
    let run: OfflineRun;
    beforeAll(async () => {
        run = await runStackOffline({ stack });
    });

    it("names each protected item by its plain share name, so azure-native finds its system name", () => {
        const items = resourcesOfType(run, T.protectedItem);
        const shares = childrenOf(run, fileStorage, T.share).map((share) => input(share, "shareName"));
        expect(items.map((item) => input(item, "protectedItemName")).sort()).toEqual([...shares].sort());
        for (const item of items) {
            // azure-native compares friendlyName with protectedItemName, and the container's
            // friendly name with the account named by sourceResourceId.
            expect(input(item, "properties.friendlyName")).toBe(input(item, "protectedItemName"));
            expect(input(item, "protectedItemName")).not.toContain(";");
        }
        const container = only(run, T.container);
        const account = onlyIn(run, fileStorage, T.storageAccount);
        expect(input(container, "properties.friendlyName")).toBe(input(account, "accountName"));
    });

    it("creates the VNet's subnets one after another (Azure refuses a concurrent subnet write: AnotherOperationInProgress)", () => {
        const subnets = resourcesOfType(run, T.subnet);
        expect(subnets.length).toBe(3); // database, Container Apps, drill scratch endpoint
        const after = (s: OfflineResource) => subnets.filter((other) => s.options.dependsOn.includes(other.urn));
        const first = subnets.filter((s) => after(s).length === 0);
        expect(first.map((s) => s.name)).toEqual(["postgres-network-subnet"]);
        const order = [first[0]];
        for (let next = first; next.length === 1;) {
            next = subnets.filter((s) => after(s).some((a) => a.urn === order[order.length - 1].urn));
            if (next.length === 1) order.push(next[0]);
        }
        expect(order.map((s) => s.name)).toEqual([
            "postgres-network-subnet",
            "nas-subnet",
            "nas-drill-scratch-endpoint-subnet",
        ]);
    });

    it("registers the storage account with the vault only after every share exists", () => {
        const container = only(run, T.container);
        const shares = childrenOf(run, fileStorage, T.share);
        expect(shares.length).toBeGreaterThan(0);
        for (const share of shares) {
            expect(container.options.dependsOn, share.name).toContain(share.urn);
        }
    });

    it("sends all five vault monitoring settings (API 2024-02-01 and later reject a partial set)", () => {
        const vault = only(run, T.vault);
        const settings = input(vault, "properties.monitoringSettings");
        expect(settings).toEqual({
            azureMonitorAlertSettings: {
                alertsForAllJobFailures: "Enabled",
                alertsForAllReplicationIssues: expect.stringMatching(/^(Enabled|Disabled)$/),
                alertsForAllFailoverIssues: expect.stringMatching(/^(Enabled|Disabled)$/),
            },
            classicAlertSettings: {
                alertsForCriticalOperations: expect.stringMatching(/^(Enabled|Disabled)$/),
                emailNotificationsForSiteRecovery: expect.stringMatching(/^(Enabled|Disabled)$/),
            },
        });
    });

    it("creates every server parameter and database strictly one after another (ServerIsBusy)", () => {
        const chain = serverChain(run);
        const children = [...resourcesOfType(run, T.configuration), ...resourcesOfType(run, T.database)];
        expect(chain.map((child) => child.name).sort()).toEqual(children.map((child) => child.name).sort());
        expect(chain.length).toBe(postgresServerParameters().length + resourcesOfType(run, T.database).length);
    });

    it("logs every connection and disconnection on the server (§2.15)", () => {
        const settings = Object.fromEntries(
            resourcesOfType(run, T.configuration).map((c) => [input(c, "configurationName"), input(c, "value")]),
        );
        expect(settings).toMatchObject({ log_connections: "on", log_disconnections: "on" });
    });

    it("runs zone-redundant high availability where the stack asks for it (prod: the 4-hour RTO)", () => {
        const azure = readStackFile(stack).config["backup-policy:azure"] as { postgres: { highAvailability?: string } };
        const expected = azure.postgres.highAvailability ?? "Disabled";
        expect(input(only(run, T.server), "highAvailability.mode")).toBe(expected);
        if (stack === "prod") expect(expected).toBe("ZoneRedundant");
    });

    it("lets Azure patch the server only in a custom window outside the backups and restore drills", () => {
        const window = input(only(run, T.server), "maintenanceWindow") as {
            customWindow: string;
            dayOfWeek: number;
            startHour: number;
        };
        expect(window.customWindow).toBe("Enabled");
        const { dailyBackupTimeUtc } = readStackFile(stack).config["backup-policy:nasBackup"] as {
            dailyBackupTimeUtc: string;
        };
        const backupHours = maintenanceHoursOverlappingBackupUtc(parseTimeOfDay(dailyBackupTimeUtc, "time"));
        expect(backupHours).not.toContain(window.startHour);
        // 23:30 UTC and up to 3 × 80 min: the hours 23 to 3 are taken
        expect(maintenanceHoursOverlappingBackupUtc({ hour: 23, minute: 30 })).toEqual([23, 0, 1, 2, 3]);
    });

    it("sets the vault's soft delete as configured (prod: AlwaysON, trial: reversible)", () => {
        const state = input(only(run, T.vault), "properties.securitySettings.softDeleteSettings.softDeleteState");
        expect(state).toBe(stack === "prod" ? "AlwaysON" : "Enabled");
    });

    it("hardens the storage account: no cross-tenant replication, a key expiration policy", () => {
        const account = onlyIn(run, fileStorage, T.storageAccount);
        expect(input(account, "allowCrossTenantReplication")).toBe(false);
        expect(input(account, "keyPolicy.keyExpirationPeriodInDays")).toBe(storageKeyExpirationDays);
        // Accepted risk (README): vault-standard Azure Files backup needs shared-key access.
        expect(input(account, "allowSharedKeyAccess")).toBe(true);
    });

    it("accepts only SMB 3.1.1 with AES-256-GCM channel encryption on the file service (§2.9)", () => {
        const fileService = onlyIn(run, fileStorage, T.fileService);
        expect(input(fileService, "protocolSettings.smb.versions")).toBe("SMB3.1.1");
        expect(input(fileService, "protocolSettings.smb.channelEncryption")).toBe("AES-256-GCM");
    });

    it("sends the file service's logs to the workspace (§2.15)", () => {
        const account = onlyIn(run, fileStorage, T.storageAccount);
        const diagnostics = resourcesOfType(run, T.diagnostics).find(
            (setting) => input(setting, "resourceUri") === `${account.id}/fileServices/default`,
        );
        expect(diagnostics).toBeDefined();
        expect(input(diagnostics!, "logs")).toEqual([{ categoryGroup: "allLogs", enabled: true }]);
    });

    it("sends the vault's backup logs to resource-specific tables (the RPO alert queries them)", () => {
        const vault = only(run, T.vault);
        const diagnostics = resourcesOfType(run, T.diagnostics).find(
            (setting) => input(setting, "resourceUri") === vault.id,
        );
        expect(input(diagnostics!, "logAnalyticsDestinationType")).toBe("Dedicated");
    });
});

describe("pure builders", () => {
    it("protection policy: daily, dailies and the first Sunday's backup kept as the policy says, in the vault", () => {
        const properties = protectionPolicyProperties();
        const retention = properties.vaultRetentionPolicy as {
            vaultRetention: {
                dailySchedule: { retentionDuration: { count: number; durationType: string } };
                monthlySchedule: {
                    retentionScheduleWeekly: { daysOfTheWeek: string[]; weeksOfTheMonth: string[] };
                    retentionDuration: { count: number; durationType: string };
                };
            };
        };
        expect(properties.schedulePolicy).toMatchObject({ scheduleRunFrequency: "Daily" });
        expect(retention.vaultRetention.dailySchedule.retentionDuration).toEqual({
            count: backupPolicy.fileShares.dailyRetentionDays.value,
            durationType: "Days",
        });
        expect(retention.vaultRetention.monthlySchedule.retentionScheduleWeekly).toEqual({
            daysOfTheWeek: [backupPolicy.fileShares.monthlyAnchor.value.dayOfWeek],
            weeksOfTheMonth: [backupPolicy.fileShares.monthlyAnchor.value.weekOfMonth],
        });
        expect(retention.vaultRetention.monthlySchedule.retentionDuration).toEqual({
            count: backupPolicy.fileShares.monthlyRetentionMonths.value,
            durationType: "Months",
        });
    });

    it("server parameters: TLS first, then connection logging", () => {
        expect(postgresServerParameters().map((p) => p.name)).toEqual([
            "require_secure_transport",
            "ssl_min_protocol_version",
            "log_connections",
            "log_disconnections",
        ]);
    });

    it("vault monitoring settings: job-failure alerts on, classic alerts off", () => {
        expect(vaultMonitoringSettings.azureMonitorAlertSettings.alertsForAllJobFailures).toBe("Enabled");
        expect(vaultMonitoringSettings.classicAlertSettings.alertsForCriticalOperations).toBe("Disabled");
    });

    it("storage account and SMB settings", () => {
        const args = storageAccountArgs({
            resourceGroupName: "rg",
            location: "northeurope",
            tags: {},
            accountName: "st",
            sku: "Standard_GRS",
            shareNames: [],
            shareQuotaGiB: 1,
            logAnalyticsWorkspaceId: "ws",
        });
        expect(args).toMatchObject({ allowCrossTenantReplication: false, allowBlobPublicAccess: false });
        expect(smbProtocolSettings).toEqual({ smb: { versions: "SMB3.1.1", channelEncryption: "AES-256-GCM" } });
    });
});
