/**
 * Resources shaped like the azure-native / kubernetes / digitalocean SDKs register them, compliant
 * with the Data Backup Policy. Values come from components/policy.ts; each test changes one property.
 */
import { backupPolicy } from "../../components/policy";
import { fileResourceClaimMetadata, type NasBackupTarget } from "../../components/kubernetes/nasBackupContract";
import { checkNasBackupArgs, type NasJobArgs } from "../../components/kubernetes/args";
import { targetCronJobs } from "../../components/kubernetes/jobs";
import { restrictedNamespaceLabels } from "../../components/kubernetes/nasBackup";
import type { NasOperation } from "../../components/kubernetes/schedule";
import { exampleJobArgs } from "../kubernetes/fixture";
import type { ResourceUnderTest } from "../../policies/harness/analyze";
import { rpoAlertQuery, rpoAlertThresholdHours } from "../../components/azure/backupAlerts";
import { nasJobFailureQuery } from "../../components/azure/nasBackupAlerts";
import { parseUtcBackupTime } from "../../components/azure/nasJobSchedule";
import { type AzureTarget, consumptionProfile, targetJobs } from "../../components/azure/nasBackupJobs";
import { drillScratchAccountArgs, drillScratchShareName } from "../../components/azure/drillScratch";

const rg = "rg-backup-prod";
const location = backupPolicy.regions.azure.value;
const subscription = "/subscriptions/00000000-0000-0000-0000-000000000000";
export const ids = {
    account: `${subscription}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/stbackupprod`,
    policy: `${subscription}/resourceGroups/${rg}/providers/Microsoft.RecoveryServices/vaults/rsv-prod/backupPolicies/files-daily`,
    vault: `${subscription}/resourceGroups/${rg}/providers/Microsoft.RecoveryServices/vaults/rsv-prod`,
    resourceGroup: `${subscription}/resourceGroups/${rg}`,
    actionGroup: `${subscription}/resourceGroups/${rg}/providers/Microsoft.Insights/actionGroups/backup-operators`,
    workspace: `${subscription}/resourceGroups/${rg}/providers/Microsoft.OperationalInsights/workspaces/log-prod`,
    containerAppsSubnet: `${subscription}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/container-apps`,
    scratchAccount: `${subscription}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/stdrillscratchprod`,
    scratchEndpointSubnet: `${subscription}/resourceGroups/${rg}/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/drill-scratch-endpoint`,
};

export function urn(type: string, name: string): string {
    return `urn:pulumi:prod::backup-policy::${type}::${name}`;
}

function resource(
    type: string,
    name: string,
    props: Record<string, unknown>,
    extra: Partial<ResourceUnderTest> = {},
): ResourceUnderTest {
    return { type, name, urn: urn(type, name), props, ...extra };
}

export const types = {
    server: "azure-native:dbforpostgresql:Server",
    configuration: "azure-native:dbforpostgresql:Configuration",
    database: "azure-native:dbforpostgresql:Database",
    account: "azure-native:storage:StorageAccount",
    fileService: "azure-native:storage:FileServiceProperties",
    share: "azure-native:storage:FileShare",
    vault: "azure-native:recoveryservices:Vault",
    policy: "azure-native:recoveryservices:ProtectionPolicy",
    item: "azure-native:recoveryservices:ProtectedItem",
    cronJob: "kubernetes:batch/v1:CronJob",
    containerAppsJob: "azure-native:app:Job",
    namespace: "kubernetes:core/v1:Namespace",
    doCluster: "digitalocean:index/databaseCluster:DatabaseCluster",
    doDb: "digitalocean:index/databaseDb:DatabaseDb",
    doBucket: "digitalocean:index/spacesBucket:SpacesBucket",
    doFirewall: "digitalocean:index/databaseFirewall:DatabaseFirewall",
    doKubernetes: "digitalocean:index/kubernetesCluster:KubernetesCluster",
    doNfs: "digitalocean:index/nfs:Nfs",
    doVpc: "digitalocean:index/vpc:Vpc",
    claimPatch: "kubernetes:core/v1:PersistentVolumeClaimPatch",
    actionGroup: "azure-native:monitor:ActionGroup",
    alertRouting: "azure-native:alertsmanagement:AlertProcessingRuleByName",
    rpoAlert: "azure-native:monitor:ScheduledQueryRule",
    subnet: "azure-native:network:Subnet",
    privateEndpoint: "azure-native:network:PrivateEndpoint",
    environmentStorage: "azure-native:app:ManagedEnvironmentsStorage",
} as const;

export function server(): ResourceUnderTest {
    return resource(
        types.server,
        "postgres",
        {
            resourceGroupName: rg,
            serverName: "psql-prod",
            location,
            version: "16",
            administratorLogin: "backupadmin",
            availabilityZone: "",
            backup: { backupRetentionDays: backupPolicy.database.retentionDays.value, geoRedundantBackup: "Enabled" },
            network: {
                delegatedSubnetResourceId: "/subnets/postgres",
                privateDnsZoneArmResourceId: "/dns/zone",
                publicNetworkAccess: "Disabled",
            },
            sku: { name: "Standard_D2ds_v5", tier: "GeneralPurpose" },
        },
        { protect: true },
    );
}

export function serverParameter(parameter: string, value: string, serverName = "psql-prod"): ResourceUnderTest {
    return resource(types.configuration, parameter.replace(/_/g, "-"), {
        resourceGroupName: rg,
        serverName,
        configurationName: parameter,
        source: "user-override",
        value,
    });
}

/** A database; unprotected unless `protect` (the compliant stack protects it). */
export function database(name: string, protect = false): ResourceUnderTest {
    return resource(
        types.database,
        `db-${name}`,
        { resourceGroupName: rg, serverName: "psql-prod", databaseName: name, charset: "UTF8" },
        { protect },
    );
}

export function storageAccount(): ResourceUnderTest {
    return resource(
        types.account,
        "files",
        {
            resourceGroupName: rg,
            accountName: "stbackupprod",
            id: ids.account,
            location,
            kind: "StorageV2",
            sku: { name: "Standard_GZRS" },
            enableHttpsTrafficOnly: true,
            minimumTlsVersion: backupPolicy.encryption.storageMinTls.value,
            allowBlobPublicAccess: false,
            encryption: { keySource: "Microsoft.Storage", requireInfrastructureEncryption: true },
        },
        { protect: true },
    );
}

export function fileService(): ResourceUnderTest {
    return resource(types.fileService, "file-service", {
        resourceGroupName: rg,
        accountName: "stbackupprod",
        fileServicesName: "default",
        shareDeleteRetentionPolicy: { enabled: true, days: 14 },
    });
}

/** A file share; unprotected unless `protect` (the compliant stack protects it). */
export function fileShare(name: string, protect = false): ResourceUnderTest {
    return resource(
        types.share,
        `share-${name}`,
        { resourceGroupName: rg, accountName: "stbackupprod", shareName: name, shareQuota: 100 },
        { protect },
    );
}

export function vault(): ResourceUnderTest {
    return resource(
        types.vault,
        "vault",
        {
            resourceGroupName: rg,
            vaultName: "rsv-prod",
            id: ids.vault,
            location,
            sku: { name: "RS0", tier: "Standard" },
            properties: {
                publicNetworkAccess: "Disabled",
                redundancySettings: { standardTierStorageRedundancy: "GeoRedundant", crossRegionRestore: "Enabled" },
                securitySettings: {
                    softDeleteSettings: { softDeleteState: "Enabled", softDeleteRetentionPeriodInDays: 14 },
                    immutabilitySettings: { state: "Unlocked" },
                },
                monitoringSettings: {
                    azureMonitorAlertSettings: { alertsForAllJobFailures: "Enabled" },
                    classicAlertSettings: { alertsForCriticalOperations: "Disabled" },
                },
            },
        },
        { protect: true },
    );
}

/** The LongTermRetentionPolicy the policy demands (daily and monthly retention from components/policy.ts). */
function longTermRetention(time: string): Record<string, unknown> {
    const anchor = backupPolicy.fileShares.monthlyAnchor.value;
    return {
        retentionPolicyType: "LongTermRetentionPolicy",
        dailySchedule: {
            retentionTimes: [time],
            retentionDuration: { count: backupPolicy.fileShares.dailyRetentionDays.value, durationType: "Days" },
        },
        monthlySchedule: {
            retentionScheduleFormatType: "Weekly",
            retentionScheduleWeekly: { weeksOfTheMonth: [anchor.weekOfMonth], daysOfTheWeek: [anchor.dayOfWeek] },
            retentionTimes: [time],
            retentionDuration: { count: backupPolicy.fileShares.monthlyRetentionMonths.value, durationType: "Months" },
        },
    };
}

/** Path of the retention of `protectionPolicy()` (vault-standard tier). */
export const vaultRetention = "properties.vaultRetentionPolicy.vaultRetention";

/** AzureFileShare protection policy, vault-standard tier (recovery points copied into the vault). */
export function protectionPolicy(): ResourceUnderTest {
    const time = "2025-01-01T02:00:00Z";
    return resource(types.policy, "files-daily", {
        resourceGroupName: rg,
        vaultName: "rsv-prod",
        policyName: "files-daily",
        id: ids.policy,
        properties: {
            backupManagementType: "AzureStorage",
            workLoadType: "AzureFileShare",
            timeZone: "UTC",
            schedulePolicy: {
                schedulePolicyType: "SimpleSchedulePolicy",
                scheduleRunFrequency: "Daily",
                scheduleRunTimes: [time],
            },
            vaultRetentionPolicy: { snapshotRetentionInDays: 7, vaultRetention: longTermRetention(time) },
        },
    });
}

/** The same policy in the snapshot tier (retention of the share snapshots). */
export function snapshotTierProtectionPolicy(): ResourceUnderTest {
    const policy = protectionPolicy();
    const properties = { ...(policy.props.properties as Record<string, unknown>) };
    properties.retentionPolicy = (properties.vaultRetentionPolicy as { vaultRetention: unknown }).vaultRetention;
    delete properties.vaultRetentionPolicy;
    return { ...policy, props: { ...policy.props, properties } };
}

/**
 * A protected share as the program registers it (named by the plain share name, which azure-native
 * resolves to the system name) or, with `systemName`, as the state holds it after deployment
 * (`azurefileshare;<hash>`, the share only in properties.friendlyName).
 */
export function protectedItem(share: string, policyId: string = ids.policy, systemName?: string): ResourceUnderTest {
    return resource(
        types.item,
        `protect-${share}`,
        {
            resourceGroupName: rg,
            vaultName: "rsv-prod",
            fabricName: "Azure",
            containerName: `StorageContainer;Storage;${rg};stbackupprod`,
            protectedItemName: systemName ?? share,
            properties: {
                protectedItemType: "AzureFileShareProtectedItem",
                sourceResourceId: ids.account,
                policyId,
                friendlyName: share,
            },
        },
        { protect: true },
    );
}

/**
 * A NAS CronJob exactly as the NasBackup component renders it (components/kubernetes/jobs.ts), for one
 * target of the example (test/kubernetes/fixture.ts): the backup CronJob by default, or its prune,
 * verify or drill CronJob.
 */
export function nasCronJob(target: NasBackupTarget, operation: NasOperation = "backup"): ResourceUnderTest {
    const args = exampleJobArgs();
    const withTarget: NasJobArgs =
        target.kind === "database"
            ? { ...args, databases: [{ ...args.databases[0], name: target.name }], fileResources: [] }
            : { ...args, databases: [], fileResources: [{ name: target.name, claimName: target.name }] };
    const checked = checkNasBackupArgs(withTarget);
    const plan = targetCronJobs(withTarget, checked, checked.targets[0]).find((p) => p.operation === operation)!;
    const suffix = operation === "backup" ? "" : `-${operation}`;
    return resource(types.cronJob, `nas-backup-${target.kind}-${target.name}${suffix}`, {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: plan.name, namespace: "backup", ...plan.metadata },
        spec: plan.spec,
    });
}

/**
 * An existing claim marked as holding file resource `fileResource` (staging's `existingClaims`), in the
 * namespace of `nasCronJob` and named like the claim `nasCronJob` mounts for that file resource.
 */
export function existingClaimMarker(fileResource: string, claimName = fileResource): ResourceUnderTest {
    return resource(types.claimPatch, `existing-files-${claimName}`, {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: claimName, namespace: "backup", ...fileResourceClaimMetadata(fileResource) },
    });
}

/**
 * A NAS Container Apps Job (prod/trial) exactly as the AzureNasBackup component renders it
 * (components/azure/nasBackupJobs.ts `targetJobs`), for one target: the backup job (tagged with the
 * NAS backup declaration) by default, or its prune, verify or drill job.
 */
export function containerAppsJob(target: NasBackupTarget, operation: NasOperation = "backup"): ResourceUnderTest {
    const azureTarget: AzureTarget =
        target.kind === "database"
            ? {
                  kind: "database",
                  target: target.name,
                  jobName: target.name,
                  name: target.name,
                  host: "psql-prod.postgres.database.azure.com",
                  port: 5432,
                  role: "nas_backup",
                  password: "placeholder-database-password",
                  tls: {
                      mode: "verify-full",
                      caCertificate: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
                  },
              }
            : {
                  kind: "file-share",
                  target: target.name,
                  jobName: target.name,
                  name: target.name,
                  storageName: target.name,
              };
    const plan = targetJobs(azureTarget, {
        image: `ghcr.io/it-manufactory/nas-backup@sha256:${"0".repeat(64)}`,
        backupTime: parseUtcBackupTime("00:30", "dailyBackupTimeUtc"),
        appendOnlyUrl: new URL("https://nas.it-manufactory.de:8000/prod/"),
        maintenanceUrl: new URL("https://nas.it-manufactory.de:8001/prod/"),
        secrets: {
            appendOnly: { user: "backup", password: "placeholder-nas-password" },
            maintenance: { user: "prune", password: "placeholder-maintenance-password" },
            repositoryPassword: "placeholder-repository-key",
        },
        scratch: {
            storageName: drillScratchShareName,
            initImage: `docker.io/library/busybox@sha256:${"0".repeat(64)}`,
        },
    }).find((p) => p.operation === operation)!;
    const suffix = operation === "backup" ? "" : `-${operation}`;
    return resource(types.containerAppsJob, `nas-job-${target.kind}-${target.name}${suffix}`, {
        resourceGroupName: rg,
        jobName: plan.name,
        location,
        environmentId: `${ids.resourceGroup}/providers/Microsoft.App/managedEnvironments/cae-prod`,
        workloadProfileName: consumptionProfile,
        configuration: plan.configuration,
        template: plan.template,
        tags: plan.tags,
    });
}

/** The drill scratch account's name in the fixtures. */
export const scratchAccountName = "stdrillscratchprod";

/**
 * The drill scratch share as components/azure/drillScratch.ts renders it (§2.10): the Container Apps
 * environment's subnet, the FileStorage account (its arguments from `drillScratchAccountArgs`), its
 * private endpoint in a subnet of its own, its file service, the NFS share and the environment storage
 * the verify and drill jobs (`containerAppsJob`) mount.
 */
export function drillScratch(): ResourceUnderTest[] {
    const accountArgs = drillScratchAccountArgs({
        resourceGroupName: rg,
        location,
        tags: {},
        accountName: scratchAccountName,
        quotaGiB: 100,
        network: {
            virtualNetworkName: "vnet-prod",
            virtualNetworkId: "/vnet-prod",
            endpointSubnetPrefix: "10.40.3.0/28",
        },
        environmentName: "cae-prod",
    });
    return [
        resource(types.subnet, "nas-subnet", {
            resourceGroupName: rg,
            virtualNetworkName: "vnet-prod",
            subnetName: "container-apps",
            id: ids.containerAppsSubnet,
            delegations: [{ name: "container-apps-environment", serviceName: "Microsoft.App/environments" }],
        }),
        resource(types.subnet, "nas-drill-scratch-endpoint-subnet", {
            resourceGroupName: rg,
            virtualNetworkName: "vnet-prod",
            subnetName: "drill-scratch-endpoint",
            addressPrefix: "10.40.3.0/28",
            id: ids.scratchEndpointSubnet,
        }),
        resource(types.privateEndpoint, "scratch-endpoint", {
            resourceGroupName: rg,
            privateEndpointName: `${scratchAccountName}-file`,
            location,
            subnet: { id: ids.scratchEndpointSubnet },
            privateLinkServiceConnections: [
                { name: "file", privateLinkServiceId: ids.scratchAccount, groupIds: ["file"] },
            ],
        }),
        resource(
            types.account,
            "scratch-account",
            { ...(accountArgs as unknown as Record<string, unknown>), id: ids.scratchAccount },
            { protect: true },
        ),
        resource(types.fileService, "scratch-file-service", {
            resourceGroupName: rg,
            accountName: scratchAccountName,
            fileServicesName: "default",
            shareDeleteRetentionPolicy: { enabled: true, days: 14 },
        }),
        resource(
            types.share,
            "scratch-share",
            {
                resourceGroupName: rg,
                accountName: scratchAccountName,
                shareName: drillScratchShareName,
                shareQuota: 100,
                enabledProtocols: "NFS",
                rootSquash: "NoRootSquash",
            },
            { protect: true },
        ),
        resource(types.environmentStorage, "scratch-storage", {
            resourceGroupName: rg,
            environmentName: "cae-prod",
            storageName: drillScratchShareName,
            properties: {
                nfsAzureFile: {
                    server: `${scratchAccountName}.privatelink.file.core.windows.net`,
                    shareName: `/${scratchAccountName}/${drillScratchShareName}`,
                    accessMode: "ReadWrite",
                },
            },
        }),
    ];
}

/** The namespace the NAS CronJobs run in, enforcing the restricted Pod Security Standard. */
export function nasNamespace(): ResourceUnderTest {
    return resource(types.namespace, "nas-namespace", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "backup", labels: { ...restrictedNamespaceLabels } },
    });
}

const doRegion = backupPolicy.regions.digitalocean.value;
export const doIds = {
    vpc: "11111111-0000-4000-8000-000000000001",
    cluster: "11111111-0000-4000-8000-000000000002",
    kubernetes: "11111111-0000-4000-8000-000000000003",
};

export function digitalOceanCluster(): ResourceUnderTest {
    return resource(
        types.doCluster,
        "staging-db",
        {
            id: doIds.cluster,
            name: "staging-db",
            engine: "pg",
            version: "16",
            size: "db-s-1vcpu-1gb",
            nodeCount: 1,
            region: doRegion,
            privateNetworkUuid: doIds.vpc,
        },
        { protect: true },
    );
}

/** The trusted sources of `digitalOceanCluster()`: its DOKS cluster only. */
export function digitalOceanFirewall(): ResourceUnderTest {
    return resource(
        types.doFirewall,
        "staging-db-firewall",
        { clusterId: doIds.cluster, rules: [{ type: "k8s", value: doIds.kubernetes }] },
        { protect: true, propertyDependencies: { clusterId: [urn(types.doCluster, "staging-db")] } },
    );
}

export function digitalOceanKubernetes(): ResourceUnderTest {
    return resource(
        types.doKubernetes,
        "staging-k8s",
        { name: "staging", region: doRegion, vpcUuid: doIds.vpc, version: "1.33.2-do.0", ha: false },
        { protect: true },
    );
}

export function digitalOceanNfs(share: string): ResourceUnderTest {
    return resource(
        types.doNfs,
        `files-${share}`,
        { name: `staging-${share}`, region: doRegion, vpcId: doIds.vpc, size: 50 },
        { protect: true },
    );
}

export function digitalOceanVpc(): ResourceUnderTest {
    return resource(types.doVpc, "staging-vpc", { name: "staging", region: doRegion, ipRange: "10.110.0.0/20" });
}

/** An action group that e-mails one person. */
export function actionGroup(): ResourceUnderTest {
    return resource(types.actionGroup, "backup-operators", {
        resourceGroupName: rg,
        actionGroupName: "backup-operators",
        id: ids.actionGroup,
        groupShortName: "backup-ops",
        enabled: true,
        emailReceivers: [{ name: "ops", emailAddress: "ops@example.org" }],
    });
}

/** An alert processing rule that routes the vault's alerts to the action group. */
export function alertRouting(scope: string = ids.vault): ResourceUnderTest {
    return resource(types.alertRouting, "vault-routing", {
        resourceGroupName: rg,
        alertProcessingRuleName: "vault-routing",
        location: "Global",
        properties: {
            enabled: true,
            scopes: [scope],
            actions: [{ actionType: "AddActionGroups", actionGroupIds: [ids.actionGroup] }],
        },
    });
}

/** The RPO log search alert as components/azure/backupAlerts.ts builds it. */
export function rpoAlert(thresholdHours: number = rpoAlertThresholdHours): ResourceUnderTest {
    return resource(types.rpoAlert, "rpo", {
        resourceGroupName: rg,
        ruleName: "rpo",
        location,
        kind: "LogAlert",
        enabled: true,
        scopes: [ids.workspace],
        evaluationFrequency: "PT1H",
        windowSize: "P2D",
        criteria: {
            allOf: [
                {
                    query: rpoAlertQuery("rsv-prod", backupPolicy.fileResources.value, thresholdHours),
                    timeAggregation: "Count",
                    operator: "GreaterThan",
                    threshold: 0,
                },
            ],
        },
        actions: { actionGroups: [ids.actionGroup] },
    });
}

/** The failed-execution log alert of the NAS Container Apps Jobs as components/azure/nasBackupAlerts.ts builds it. */
export function jobFailureAlert(jobNames: readonly string[]): ResourceUnderTest {
    return resource(types.rpoAlert, "nas-job-failures", {
        resourceGroupName: rg,
        ruleName: "nas-backup-prod-job-failures",
        location,
        kind: "LogAlert",
        enabled: true,
        scopes: [ids.workspace],
        evaluationFrequency: "PT15M",
        windowSize: "PT15M",
        criteria: {
            allOf: [
                {
                    query: nasJobFailureQuery(jobNames),
                    timeAggregation: "Count",
                    operator: "GreaterThan",
                    threshold: 0,
                },
            ],
        },
        actions: { actionGroups: [ids.actionGroup] },
    });
}

/** The whole prod-like stack: server, TLS parameters, databases, storage, shares and their backup. */
export function compliantStack(): ResourceUnderTest[] {
    const shares = backupPolicy.fileResources.value;
    return [
        server(),
        serverParameter("require_secure_transport", "on"),
        serverParameter("ssl_min_protocol_version", backupPolicy.encryption.databaseMinTls.value),
        database("main", true),
        storageAccount(),
        fileService(),
        ...shares.map((s) => fileShare(s, true)),
        vault(),
        protectionPolicy(),
        ...shares.map((s) => protectedItem(s)),
        actionGroup(),
        alertRouting(),
        rpoAlert(),
    ];
}

/** Deep copy of plain data, keeping markers (`unknown`, secrets) as they are. */
function copy(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(copy);
    if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
    }
    return value;
}

/** Returns a copy of `r` with `path` set to `value` (undefined deletes it). */
export function withProp(r: ResourceUnderTest, path: string | readonly string[], value: unknown): ResourceUnderTest {
    const props = copy(r.props) as Record<string, unknown>;
    const keys = typeof path === "string" ? path.split(".") : path;
    let target: Record<string, unknown> = props;
    for (const key of keys.slice(0, -1)) {
        const next = target[key];
        if (next === undefined || next === null || typeof next !== "object") {
            target[key] = {};
        }
        target = target[key] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    if (value === undefined) {
        delete target[last];
    } else {
        target[last] = value;
    }
    return { ...r, props };
}
