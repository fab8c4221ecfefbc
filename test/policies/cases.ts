/**
 * Every rule of the pack with a compliant input and non-compliant changes, each with the message the
 * rule must report. rules.test.ts runs them through the harness; cli-protocol.test.ts runs them
 * through the pack started like the Pulumi CLI starts it, and compares.
 */
import { backupPolicy } from "../../components/policy";
import { runnerPgDumpMajorVersion } from "../../components/postgresVersions";
import { nasBackupAnnotations } from "../../components/kubernetes/nasBackupContract";
import { type ResourceUnderTest, unknown } from "../../policies/harness/analyze";
import { valueAt } from "../../policies/lib/read";
import {
    actionGroup,
    alertRouting,
    compliantStack,
    containerAppsJob,
    database,
    digitalOceanCluster,
    digitalOceanFirewall,
    digitalOceanKubernetes,
    digitalOceanNfs,
    digitalOceanVpc,
    drillScratch,
    existingClaimMarker,
    fileShare,
    ids,
    jobFailureAlert,
    nasCronJob,
    nasNamespace,
    protectedItem,
    protectionPolicy,
    rpoAlert,
    server,
    serverParameter,
    snapshotTierProtectionPolicy,
    storageAccount,
    types,
    vault,
    vaultRetention,
    withProp,
} from "./fixtures";

const db = backupPolicy.database;
const files = backupPolicy.fileShares;
const nas = backupPolicy.nas;
const anchor = files.monthlyAnchor.value;

export type Input = ResourceUnderTest | ResourceUnderTest[];
export interface Case {
    readonly compliant: Input;
    readonly nonCompliant: readonly {
        readonly title: string;
        readonly input: Input;
        readonly message: string | RegExp;
    }[];
}

/** Replaces the resource named `name` in a stack. */
function replaced(stack: ResourceUnderTest[], name: string, by: ResourceUnderTest | undefined): ResourceUnderTest[] {
    return stack.flatMap((r) => (r.name === name ? (by ? [by] : []) : [r]));
}

export const stack = compliantStack();
const nasTargets = [
    { kind: "database" as const, name: "main" },
    ...backupPolicy.fileResources.value.map((name) => ({ kind: "file-share" as const, name })),
];
export const stackWithNas = [...stack, nasNamespace(), ...nasTargets.map((t) => nasCronJob(t))];
const policyName = protectionPolicy().name;
export const cronJob = nasCronJob({ kind: "database", name: "main" });
const pruneCronJob = nasCronJob({ kind: "database", name: "main" }, "prune");
const drillCronJob = nasCronJob({ kind: "database", name: "main" }, "drill");
const pod = "spec.jobTemplate.spec.template.spec";
/** The CronJob with env variable `name` of its runner container replaced by `variable`. */
function withEnv(base: ResourceUnderTest, name: string, variable: Record<string, unknown>): ResourceUnderTest {
    const env = (
        valueAt(base.props, ["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "env"]) as {
            name: string;
        }[]
    ).map((v) => (v.name === name ? { name, ...variable } : v));
    return withProp(base, `${pod}.containers.0.env`, env);
}
/** A file resource in an existing claim, and the NAS backup CronJob that mounts that claim read-only. */
const archiveClaim = existingClaimMarker("archive");
const archiveCronJob = nasCronJob({ kind: "file-share", name: "archive" });
/** `archiveCronJob` with its claim volume changed by `change` (undefined drops it). */
function withClaimVolume(change: (volume: Record<string, unknown>) => unknown): ResourceUnderTest {
    const volumes = valueAt(archiveCronJob.props, [...pod.split("."), "volumes"]) as Record<string, unknown>[];
    const changed = volumes.flatMap((v) =>
        v.persistentVolumeClaim ? [change(v)].filter((c) => c !== undefined) : [v],
    );
    return withProp(archiveCronJob, `${pod}.volumes`, changed);
}
const annotation = (key: keyof typeof nasBackupAnnotations) => ["metadata", "annotations", nasBackupAnnotations[key]];

export const appsJob = containerAppsJob({ kind: "database", name: "main" });
const pruneAppsJob = containerAppsJob({ kind: "database", name: "main" }, "prune");
const drillAppsJob = containerAppsJob({ kind: "database", name: "main" }, "drill");
const tag = (key: keyof typeof nasBackupAnnotations) => ["tags", nasBackupAnnotations[key].replace("/", ":")];

/** The Container Apps Job with env variable `name` of its runner container replaced by `variable`. */
function withAppsEnv(base: ResourceUnderTest, name: string, variable: Record<string, unknown>): ResourceUnderTest {
    const env = (valueAt(base.props, ["template", "containers", 0, "env"]) as { name: string }[]).map((v) =>
        v.name === name ? { name, ...variable } : v,
    );
    return withProp(base, "template.containers.0.env", env);
}

/** One runtime of the NAS jobs (Kubernetes CronJob, Container Apps Job) as the cases both share see it. */
interface NasJobRuntime {
    /** The backup, prune and drill job of the database "main". */
    readonly jobs: Readonly<Record<"backup" | "prune" | "drill", ResourceUnderTest>>;
    /** Where a job declares its NAS backup (annotations, tags), and how the rules name it. */
    readonly declaration: (key: keyof typeof nasBackupAnnotations) => string[];
    readonly declarationName: (key: keyof typeof nasBackupAnnotations) => string;
    /** The job with env variable `name` of its runner container replaced by `variable`. */
    readonly withEnv: (base: ResourceUnderTest, name: string, variable: Record<string, unknown>) => ResourceUnderTest;
    /** How the rules name the runner container's environment. */
    readonly env: string;
    /** What the rules say of a secret variable that is not a reference to a secret. */
    readonly notASecretReference: string;
    /** A source of NAS_BACKUP_REPOSITORY_BASE whose value the rules cannot read. */
    readonly unreadable: { readonly title: string; readonly variable: Record<string, unknown> };
}

const kubernetesJobs: NasJobRuntime = {
    jobs: { backup: cronJob, prune: pruneCronJob, drill: drillCronJob },
    declaration: annotation,
    declarationName: (key) => `metadata.annotations["${nasBackupAnnotations[key]}"]`,
    withEnv,
    env: "containers[0].env",
    notASecretReference: "is not from a secretKeyRef; secrets must come from a Secret.",
    unreadable: { title: "a ConfigMap", variable: { valueFrom: { configMapKeyRef: { name: "x", key: "y" } } } },
};

const containerAppsJobs: NasJobRuntime = {
    jobs: { backup: appsJob, prune: pruneAppsJob, drill: drillAppsJob },
    declaration: tag,
    declarationName: (key) => `tags["${nasBackupAnnotations[key].replace("/", ":")}"]`,
    withEnv: withAppsEnv,
    env: "template.containers[0].env",
    notASecretReference: "is not a secretRef; secrets must come from the job's secrets.",
    unreadable: { title: "a secret", variable: { secretRef: "restic-password" } },
};

/**
 * The cases of the NAS rules that read the same things in both runtimes: the declared retention, the
 * secrets the runner gets, the NAS endpoints. `secretCases` are the runtime's own ways to get a secret wrong.
 */
function nasJobCases(runtime: NasJobRuntime, secretCases: Case["nonCompliant"]): Record<string, Case> {
    const { jobs, declaration, declarationName, withEnv: changedEnv, env } = runtime;
    return {
        "nas-backup-retention": {
            compliant: jobs.backup,
            nonCompliant: [
                {
                    title: "daily 14",
                    input: withProp(jobs.backup, declaration("dailyRetentionDays"), "14"),
                    message: `${declarationName("dailyRetentionDays")} is 14; the policy requires ${nas.dailyRetentionDays.value}.`,
                },
                {
                    title: "monthly 3",
                    input: withProp(jobs.backup, declaration("monthlyRetentionMonths"), "3"),
                    message: `is 3; the policy requires at least ${nas.monthlyRetentionMonths.value}.`,
                },
                {
                    title: "monthly anchor 15th",
                    input: withProp(jobs.backup, declaration("monthlyAnchorDayOfMonth"), "15"),
                    message: `is 15; the policy requires ${nas.monthlyAnchorDayOfMonth.value}.`,
                },
                {
                    title: "daily retention not declared",
                    input: withProp(jobs.backup, declaration("dailyRetentionDays"), undefined),
                    message: /daily-retention-days"\] is not set/,
                },
                {
                    title: "monthly retention not declared",
                    input: withProp(jobs.backup, declaration("monthlyRetentionMonths"), undefined),
                    message: /monthly-retention-months"\] is not set; the policy requires at least/,
                },
            ],
        },
        "nas-job-secrets-by-reference": {
            compliant: jobs.drill,
            nonCompliant: [
                {
                    title: "literal repository key",
                    input: changedEnv(jobs.backup, "RESTIC_PASSWORD", { value: "hunter2" }),
                    message: `${env} RESTIC_PASSWORD ${runtime.notASecretReference}`,
                },
                {
                    title: "literal NAS password",
                    input: changedEnv(jobs.prune, "NAS_BACKUP_MAINTENANCE_PASSWORD", { value: "x" }),
                    message: `NAS_BACKUP_MAINTENANCE_PASSWORD ${runtime.notASecretReference}`,
                },
                ...(["backup", "drill"] as const).map((operation) => ({
                    title: `no repository key (${operation})`,
                    input: changedEnv(jobs[operation], "RESTIC_PASSWORD", { name: "UNRELATED" }),
                    message: /sets neither RESTIC_PASSWORD nor RESTIC_PASSWORD_FILE/,
                })),
                ...secretCases,
            ],
        },
        "nas-job-https": {
            compliant: jobs.prune,
            nonCompliant: [
                {
                    title: "plain http to the NAS",
                    input: changedEnv(jobs.backup, "NAS_BACKUP_REPOSITORY_BASE", {
                        value: "rest:http://nas.example:8000/",
                    }),
                    message: `${env} NAS_BACKUP_REPOSITORY_BASE is "rest:http://nas.example:8000/"; backups travel to the NAS only over https`,
                },
                {
                    title: "maintenance endpoint over http",
                    input: changedEnv(jobs.prune, "NAS_BACKUP_MAINTENANCE_REPOSITORY_BASE", {
                        value: "rest:http://10.0.0.5/",
                    }),
                    message: /NAS_BACKUP_MAINTENANCE_REPOSITORY_BASE is .*only over https/,
                },
                {
                    title: `endpoint from ${runtime.unreadable.title} (cannot be verified)`,
                    input: changedEnv(jobs.backup, "NAS_BACKUP_REPOSITORY_BASE", runtime.unreadable.variable),
                    message: /NAS_BACKUP_REPOSITORY_BASE is not set; set it to the NAS's rest:https:\/\/ URL/,
                },
            ],
        },
    };
}

/** A prod/trial-shaped stack: the databases of the main and side services (§2.14) and the shares. */
const azureDatabases = ["main", ...backupPolicy.sideServices.value];
const azureTargets = [
    ...azureDatabases.map((name) => ({ kind: "database" as const, name })),
    ...backupPolicy.fileResources.value.map((name) => ({ kind: "file-share" as const, name })),
];
/** The prod-like stack with every database and share backed up to the NAS by Container Apps Jobs. */
const azureNasJobs = azureTargets.flatMap((t) =>
    (["backup", "prune", "verify", "drill"] as const).map((o) => containerAppsJob(t, o)),
);
const azureNasJobNames = azureNasJobs.map((j) => String(j.props.jobName));
export const stackWithContainerAppsJobs = [
    ...stack,
    ...azureDatabases.filter((name) => name !== "main").map((name) => database(name, true)),
    ...azureNasJobs,
    jobFailureAlert(azureNasJobNames),
    ...drillScratch(),
];
/** The prod-like stack with its drill scratch account changed (the rules must then stop exempting it). */
function withScratchAccount(path: string, value: unknown): ResourceUnderTest[] {
    return stackWithContainerAppsJobs.map((r) => (r.name === "scratch-account" ? withProp(r, path, value) : r));
}
const verifyJobName = "nas-job-database-main-verify";
const verifyJob = stackWithContainerAppsJobs.find((r) => r.name === verifyJobName)!;
/** The prod-like stack with the verify job of database "main" changed. */
function withVerifyJob(path: string, value: unknown): ResourceUnderTest[] {
    return replaced(stackWithContainerAppsJobs, verifyJobName, withProp(verifyJob, path, value));
}
/** The prod-like stack whose prune job of database "main" also mounts the scratch share (it is then no drill scratch). */
const scratchMountedByPrune = replaced(
    stackWithContainerAppsJobs,
    "nas-job-database-main-prune",
    withProp(pruneAppsJob, "template.volumes", [
        { name: "scratch", storageType: "NfsAzureFile", storageName: "drill-scratch" },
    ]),
);

export const cases: Record<string, Case> = {
    "postgresql-backup-retention": {
        compliant: server(),
        nonCompliant: [
            {
                title: "7 days",
                input: withProp(server(), "backup.backupRetentionDays", 7),
                message: `backup.backupRetentionDays is 7; the policy requires ${db.retentionDays.value}.`,
            },
            {
                title: "outside Azure's range",
                input: withProp(server(), "backup.backupRetentionDays", 40),
                message: /outside Azure's 7–35/,
            },
            {
                title: "not set",
                input: withProp(server(), "backup", undefined),
                message: /backup.backupRetentionDays is not set/,
            },
        ],
    },
    "postgresql-geo-redundant-backup": {
        compliant: server(),
        nonCompliant: [
            {
                title: "Disabled",
                input: withProp(server(), "backup.geoRedundantBackup", "Disabled"),
                message: 'backup.geoRedundantBackup is "Disabled"; the policy requires Enabled.',
            },
            {
                title: "not set",
                input: withProp(server(), "backup.geoRedundantBackup", undefined),
                message: /geoRedundantBackup is not set/,
            },
        ],
    },
    "postgresql-public-network-access-disabled": {
        compliant: server(),
        nonCompliant: [
            {
                title: "Enabled",
                input: withProp(server(), "network.publicNetworkAccess", "Enabled"),
                message: /network.publicNetworkAccess is "Enabled"/,
            },
            {
                title: "not set",
                input: withProp(server(), "network", undefined),
                message: /publicNetworkAccess is not set/,
            },
        ],
    },
    "postgresql-secure-transport-required": {
        compliant: stack,
        nonCompliant: [
            {
                title: "off",
                input: replaced(stack, "require-secure-transport", serverParameter("require_secure_transport", "off")),
                message: /require_secure_transport is "off"; the policy requires on/,
            },
            {
                title: "missing",
                input: replaced(stack, "require-secure-transport", undefined),
                message: /has no server parameter require_secure_transport/,
            },
            {
                title: "set on another server only",
                input: replaced(
                    stack,
                    "require-secure-transport",
                    serverParameter("require_secure_transport", "on", "psql-other"),
                ),
                message: /has no server parameter require_secure_transport/,
            },
        ],
    },
    "postgresql-tls-minimum-version": {
        compliant: stack,
        nonCompliant: [
            {
                title: "TLSv1.2",
                input: replaced(
                    stack,
                    "ssl-min-protocol-version",
                    serverParameter("ssl_min_protocol_version", "TLSv1.2"),
                ),
                message: `ssl_min_protocol_version is "TLSv1.2"; the policy requires ${backupPolicy.encryption.databaseMinTls.value}.`,
            },
            {
                title: "missing",
                input: replaced(stack, "ssl-min-protocol-version", undefined),
                message: /has no server parameter ssl_min_protocol_version/,
            },
        ],
    },
    "storage-https-only": {
        compliant: storageAccount(),
        nonCompliant: [
            {
                title: "the scratch account, once its network rules let every network in",
                input: withScratchAccount("networkRuleSet.defaultAction", "Allow"),
                message:
                    'enableHttpsTrafficOnly is false; the policy requires true. It is not a drill scratch account: networkRuleSet.defaultAction is "Allow", not "Deny".',
            },
            {
                title: "the scratch account, once public network access is enabled",
                input: withScratchAccount("publicNetworkAccess", "Enabled"),
                message:
                    'enableHttpsTrafficOnly is false; the policy requires true. It is not a drill scratch account: publicNetworkAccess is "Enabled", not "Disabled".',
            },
            {
                title: "the scratch account, public network access not set (Azure's default: enabled)",
                input: withScratchAccount("publicNetworkAccess", undefined),
                message: /It is not a drill scratch account: publicNetworkAccess is not set, not "Disabled"/,
            },
            {
                title: "the scratch account without its private endpoint",
                input: stackWithContainerAppsJobs.filter((r) => r.name !== "scratch-endpoint"),
                message: /It is not a drill scratch account: no private endpoint of this stack connects to it/,
            },
            {
                title: "the scratch account, once its private endpoint connects to another account",
                input: stackWithContainerAppsJobs.map((r) =>
                    r.name === "scratch-endpoint"
                        ? withProp(r, "privateLinkServiceConnections", [
                              { name: "file", privateLinkServiceId: ids.account, groupIds: ["file"] },
                          ])
                        : r,
                ),
                message: /It is not a drill scratch account: no private endpoint of this stack connects to it/,
            },
            {
                title: "the scratch account, once a job other than verify and drill mounts it",
                input: scratchMountedByPrune,
                message:
                    /It is not a drill scratch account: azure-native:app:Job "nas-job-database-main-prune" mounts it and is no NAS verify or drill job/,
            },
            {
                title: "a StorageV2 account tagged as a drill scratch (a tag proves nothing)",
                input: withProp(withProp(storageAccount(), "enableHttpsTrafficOnly", false), "tags", {
                    "drill-scratch": "true",
                }),
                message: "enableHttpsTrafficOnly is false; the policy requires true.",
            },
            {
                title: "false",
                input: withProp(storageAccount(), "enableHttpsTrafficOnly", false),
                message: "enableHttpsTrafficOnly is false; the policy requires true.",
            },
            {
                title: "not set",
                input: withProp(storageAccount(), "enableHttpsTrafficOnly", undefined),
                message: /not set/,
            },
        ],
    },
    "storage-minimum-tls": {
        compliant: storageAccount(),
        nonCompliant: [
            {
                title: "TLS1_0",
                input: withProp(storageAccount(), "minimumTlsVersion", "TLS1_0"),
                message: `minimumTlsVersion is "TLS1_0"; the policy requires ${backupPolicy.encryption.storageMinTls.value} or newer.`,
            },
            {
                title: "not set (Azure's default is TLS 1.0)",
                input: withProp(storageAccount(), "minimumTlsVersion", undefined),
                message: /minimumTlsVersion is not set/,
            },
        ],
    },
    "storage-infrastructure-encryption": {
        compliant: storageAccount(),
        nonCompliant: [
            {
                title: "the scratch account, once an IP range may reach it",
                input: withScratchAccount("networkRuleSet.ipRules", [{ iPAddressOrRange: "203.0.113.0/24" }]),
                message:
                    /requireInfrastructureEncryption is not set; the policy requires true. It is not a drill scratch account: networkRuleSet.ipRules admits IP ranges/,
            },
            {
                title: "the scratch account, once a subnet may reach it (a virtual network rule)",
                input: withScratchAccount("networkRuleSet.virtualNetworkRules", [
                    { virtualNetworkResourceId: ids.containerAppsSubnet, action: "Allow" },
                ]),
                message:
                    /requireInfrastructureEncryption is not set; the policy requires true. It is not a drill scratch account: networkRuleSet.virtualNetworkRules admits subnets/,
            },
            {
                title: "false",
                input: withProp(storageAccount(), "encryption.requireInfrastructureEncryption", false),
                message: /requireInfrastructureEncryption is false/,
            },
            {
                title: "not set",
                input: withProp(storageAccount(), "encryption", undefined),
                message: /requireInfrastructureEncryption is not set/,
            },
        ],
    },
    "storage-blob-public-access-disabled": {
        compliant: storageAccount(),
        nonCompliant: [
            {
                title: "true",
                input: withProp(storageAccount(), "allowBlobPublicAccess", true),
                message: "allowBlobPublicAccess is true; the policy requires false.",
            },
            {
                title: "not set",
                input: withProp(storageAccount(), "allowBlobPublicAccess", undefined),
                message: /not set/,
            },
        ],
    },
    "storage-geo-redundant-sku": {
        compliant: storageAccount(),
        nonCompliant: [
            {
                title: "the scratch account, once it holds an SMB share",
                input: replaced(
                    stackWithContainerAppsJobs,
                    "scratch-share",
                    withProp(
                        stackWithContainerAppsJobs.find((r) => r.name === "scratch-share")!,
                        "enabledProtocols",
                        "SMB",
                    ),
                ),
                message:
                    /sku.name is "Premium_LRS"; the policy requires a geo-redundant SKU .* It is not a drill scratch account: azure-native:storage:FileShare "scratch-share" is "SMB", not an NFS share/,
            },
            {
                title: "locally redundant",
                input: withProp(storageAccount(), "sku.name", "Standard_LRS"),
                message: /sku.name is "Standard_LRS"; the policy requires a geo-redundant SKU/,
            },
            {
                title: "zone redundant only",
                input: withProp(storageAccount(), "sku.name", "Standard_ZRS"),
                message: /Standard_ZRS/,
            },
        ],
    },
    "storage-share-soft-delete": {
        compliant: stack,
        nonCompliant: [
            {
                title: "disabled",
                input: replaced(
                    stack,
                    "file-service",
                    withProp(
                        stack.find((r) => r.name === "file-service")!,
                        "shareDeleteRetentionPolicy.enabled",
                        false,
                    ),
                ),
                message: /shareDeleteRetentionPolicy is .*"enabled":false.*; the policy requires enabled = true/,
            },
            {
                title: "no FileServiceProperties",
                input: replaced(stack, "file-service", undefined),
                message: /holds file shares but has no FileServiceProperties/,
            },
        ],
    },
    "nas-verify-on-scratch-share": {
        compliant: stackWithContainerAppsJobs,
        nonCompliant: [
            {
                title: "an EmptyDir at /scratch (the replica's 8 GiB)",
                input: withVerifyJob("template.volumes", [{ name: "scratch", storageType: "EmptyDir" }]),
                message:
                    'azure-native:app:Job "nas-job-database-main-verify" restores into /scratch on a volume of type "EmptyDir"; the policy requires the NFS drill scratch share',
            },
            {
                title: "a volume without storage type (Container Apps then makes it an EmptyDir)",
                input: withVerifyJob("template.volumes", [{ name: "scratch" }]),
                message: /on a volume of type "EmptyDir"/,
            },
            {
                title: "no scratch directory (not set: the container's file system)",
                input: withVerifyJob(
                    "template.containers.0.args",
                    (valueAt(verifyJob.props, ["template", "containers", 0, "args"]) as string[]).filter(
                        (a, i, all) => a !== "--scratch-directory" && all[i - 1] !== "--scratch-directory",
                    ),
                ),
                message:
                    /sets no --scratch-directory \(NAS_BACKUP_SCRATCH_DIRECTORY\): it restores into the container's file system/,
            },
            {
                title: "the whole share mounted, not the job's own directory",
                input: withVerifyJob(
                    "template.containers.0.volumeMounts",
                    (valueAt(verifyJob.props, ["template", "containers", 0, "volumeMounts"]) as object[]).map((m) => ({
                        ...m,
                        subPath: undefined,
                    })),
                ),
                message:
                    /mounts the whole scratch share at \/scratch; each job restores into its own directory of it \(subPath\), subPath is not set/,
            },
            {
                title: "an environment storage that is not in the stack",
                input: stackWithContainerAppsJobs.filter((r) => r.name !== "scratch-storage"),
                message: /mounts environment storage "drill-scratch", which is not in this stack/,
            },
            {
                title: "a share whose account is no drill scratch account (every network may reach it)",
                input: withScratchAccount("networkRuleSet.defaultAction", "Allow"),
                message:
                    /mounts azure-native:app:ManagedEnvironmentsStorage "scratch-storage", which mounts no drill scratch account of this stack/,
            },
        ],
    },
    "vault-geo-redundant-storage": {
        compliant: vault(),
        nonCompliant: [
            {
                title: "locally redundant",
                input: withProp(
                    vault(),
                    "properties.redundancySettings.standardTierStorageRedundancy",
                    "LocallyRedundant",
                ),
                message: /standardTierStorageRedundancy is "LocallyRedundant"; the policy requires GeoRedundant/,
            },
            {
                title: "not set",
                input: withProp(vault(), "properties.redundancySettings", undefined),
                message: /standardTierStorageRedundancy is not set/,
            },
        ],
    },
    "vault-soft-delete-enabled": {
        compliant: vault(),
        nonCompliant: [
            {
                title: "Disabled",
                input: withProp(vault(), "properties.securitySettings.softDeleteSettings.softDeleteState", "Disabled"),
                message: /softDeleteState is "Disabled"/,
            },
            {
                title: "not set",
                input: withProp(vault(), "properties.securitySettings.softDeleteSettings", undefined),
                message: /softDeleteState is not set/,
            },
        ],
    },
    "vault-immutability-enabled": {
        compliant: vault(),
        nonCompliant: [
            {
                title: "Disabled",
                input: withProp(vault(), "properties.securitySettings.immutabilitySettings.state", "Disabled"),
                message: /immutabilitySettings.state is "Disabled"; the policy requires Unlocked or Locked/,
            },
            {
                title: "not set",
                input: withProp(vault(), "properties.securitySettings.immutabilitySettings", undefined),
                message: /immutabilitySettings.state is not set/,
            },
        ],
    },
    "vault-public-network-access-disabled": {
        compliant: vault(),
        nonCompliant: [
            {
                title: "Enabled",
                input: withProp(vault(), "properties.publicNetworkAccess", "Enabled"),
                message: /properties.publicNetworkAccess is "Enabled"/,
            },
            {
                title: "not set",
                input: withProp(vault(), "properties.publicNetworkAccess", undefined),
                message: /not set/,
            },
        ],
    },
    "file-share-backup-daily-schedule": {
        compliant: protectionPolicy(),
        nonCompliant: [
            {
                title: "weekly",
                input: withProp(protectionPolicy(), "properties.schedulePolicy.scheduleRunFrequency", "Weekly"),
                message: /scheduleRunFrequency is "Weekly"; the policy requires Daily/,
            },
            {
                title: "no schedule",
                input: withProp(protectionPolicy(), "properties.schedulePolicy", undefined),
                message: /schedulePolicyType is not set/,
            },
        ],
    },
    "file-share-backup-daily-retention": {
        compliant: protectionPolicy(),
        nonCompliant: [
            {
                title: "14 days",
                input: withProp(protectionPolicy(), `${vaultRetention}.dailySchedule.retentionDuration.count`, 14),
                message: `daily retention (${vaultRetention}.dailySchedule.retentionDuration) is 14 Days; the policy requires ${files.dailyRetentionDays.value} Days.`,
            },
            {
                title: "snapshot tier, 7 days",
                input: withProp(
                    snapshotTierProtectionPolicy(),
                    "properties.retentionPolicy.dailySchedule.retentionDuration.count",
                    7,
                ),
                message: /daily retention \(properties.retentionPolicy.dailySchedule.retentionDuration\) is 7/,
            },
            {
                title: "no retention at all",
                input: withProp(protectionPolicy(), "properties.vaultRetentionPolicy", undefined),
                message: /properties.retentionPolicy.retentionPolicyType is not set/,
            },
            {
                title: "no daily schedule",
                input: withProp(protectionPolicy(), `${vaultRetention}.dailySchedule`, undefined),
                message: /daily retention \(.*\) is not set;/,
            },
        ],
    },
    "file-share-backup-monthly-retention": {
        compliant: protectionPolicy(),
        nonCompliant: [
            {
                title: "3 months",
                input: withProp(protectionPolicy(), `${vaultRetention}.monthlySchedule.retentionDuration.count`, 3),
                message: `monthly retention (${vaultRetention}.monthlySchedule.retentionDuration) is 3 Months; the policy requires ${files.monthlyRetentionMonths.value} Months.`,
            },
            {
                title: "snapshot tier, 3 months",
                input: withProp(
                    snapshotTierProtectionPolicy(),
                    "properties.retentionPolicy.monthlySchedule.retentionDuration.count",
                    3,
                ),
                message: /is 3 Months/,
            },
            {
                title: "last Sunday",
                input: withProp(
                    protectionPolicy(),
                    `${vaultRetention}.monthlySchedule.retentionScheduleWeekly.weeksOfTheMonth`,
                    ["Last"],
                ),
                message: `the policy requires the ${anchor.weekOfMonth} ${anchor.dayOfWeek} of each month.`,
            },
            {
                title: "first Saturday",
                input: withProp(
                    protectionPolicy(),
                    `${vaultRetention}.monthlySchedule.retentionScheduleWeekly.daysOfTheWeek`,
                    ["Saturday"],
                ),
                message: /days \["Saturday"\]/,
            },
            {
                title: "no monthly schedule",
                input: withProp(protectionPolicy(), `${vaultRetention}.monthlySchedule`, undefined),
                message: /monthly retention \(.*\) is not set;/,
            },
        ],
    },
    "file-share-backup-coverage": {
        compliant: stack,
        nonCompliant: [
            {
                title: "the scratch share, once its account lets every network in (no longer a drill scratch)",
                input: withScratchAccount("networkRuleSet.defaultAction", "Allow"),
                message: /FileShare "scratch-share" is not backed up/,
            },
            {
                title: "a share without protected item",
                input: replaced(stack, "protect-images", undefined),
                message: /FileShare "share-images" is not backed up/,
            },
            {
                title: "protected under a non-compliant policy",
                input: replaced(
                    stack,
                    policyName,
                    withProp(protectionPolicy(), `${vaultRetention}.monthlySchedule.retentionDuration.count`, 1),
                ),
                message:
                    /is protected under .*ProtectionPolicy "files-daily", which does not meet the policy: monthly retention .* is 1/,
            },
            {
                title: "protected under a policy outside the stack",
                input: replaced(
                    stack,
                    "protect-images",
                    protectedItem("images", "/somewhere/else/backupPolicies/weekly"),
                ),
                message: /not a protection policy of this stack/,
            },
        ],
    },
    "vault-job-failure-alerts-enabled": {
        compliant: vault(),
        nonCompliant: [
            {
                title: "Disabled",
                input: withProp(
                    vault(),
                    "properties.monitoringSettings.azureMonitorAlertSettings.alertsForAllJobFailures",
                    "Disabled",
                ),
                message: 'alertsForAllJobFailures is "Disabled"; the policy requires Enabled.',
            },
            {
                title: "not set",
                input: withProp(vault(), "properties.monitoringSettings", undefined),
                message: /alertsForAllJobFailures is not set/,
            },
        ],
    },
    "vault-alerts-routed": {
        compliant: stack,
        nonCompliant: [
            {
                title: "no alert processing rule",
                input: replaced(stack, "vault-routing", undefined),
                message: /Vault "vault": its backup alerts reach nobody/,
            },
            {
                title: "a rule scoped to another vault",
                input: replaced(stack, "vault-routing", alertRouting(`${ids.vault}-other`)),
                message: /its backup alerts reach nobody/,
            },
            {
                title: "a disabled rule",
                input: replaced(stack, "vault-routing", withProp(alertRouting(), "properties.enabled", false)),
                message: /its backup alerts reach nobody/,
            },
            {
                title: "an action group without receivers",
                input: replaced(stack, "backup-operators", withProp(actionGroup(), "emailReceivers", [])),
                message: /its backup alerts reach nobody/,
            },
        ],
    },
    "file-share-backup-rpo-alert": {
        compliant: stack,
        nonCompliant: [
            {
                title: "no RPO alert",
                input: replaced(stack, "rpo", undefined),
                message: /protects 2 Azure file share\(s\) but has no RPO alert that reaches a person/,
            },
            {
                title: "threshold above the RPO plus grace",
                input: replaced(stack, "rpo", rpoAlert(48)),
                message: /its threshold is 48 h; at most 26 h/,
            },
            {
                title: "disabled",
                input: replaced(stack, "rpo", withProp(rpoAlert(), "enabled", false)),
                message: /it is disabled/,
            },
            {
                title: "notifies nobody",
                input: replaced(stack, "rpo", withProp(rpoAlert(), "actions", undefined)),
                message: /it notifies no action group of this stack with a receiver/,
            },
            {
                title: "query not over the backup jobs",
                input: replaced(
                    stack,
                    "rpo",
                    withProp(rpoAlert(), "criteria.allOf", [{ query: "let threshold = 24h; Heartbeat" }]),
                ),
                message: /its query does not read AddonAzureBackupJobs/,
            },
        ],
    },
    "nas-job-failure-alert": {
        compliant: stackWithContainerAppsJobs,
        nonCompliant: [
            {
                title: "no failed-execution alert",
                input: replaced(stackWithContainerAppsJobs, "nas-job-failures", undefined),
                message: /A failed execution of azure-native:app:Job "nas-job-database-main", .* alerts nobody/,
            },
            {
                title: "the drill of one target left out",
                input: replaced(
                    stackWithContainerAppsJobs,
                    "nas-job-failures",
                    jobFailureAlert(azureNasJobNames.filter((n) => n !== "drill-images")),
                ),
                message: /A failed execution of azure-native:app:Job "nas-job-file-share-images-drill" alerts nobody/,
            },
            {
                title: "disabled",
                input: replaced(
                    stackWithContainerAppsJobs,
                    "nas-job-failures",
                    withProp(jobFailureAlert(azureNasJobNames), "enabled", false),
                ),
                message: /nas-job-failures": it is disabled/,
            },
            {
                title: "notifies nobody",
                input: replaced(
                    stackWithContainerAppsJobs,
                    "nas-job-failures",
                    withProp(jobFailureAlert(azureNasJobNames), "actions", undefined),
                ),
                message: /it notifies no action group of this stack with a receiver/,
            },
            {
                title: "over the console logs only (a run killed by its timeout logs nothing there)",
                input: replaced(
                    stackWithContainerAppsJobs,
                    "nas-job-failures",
                    withProp(
                        jobFailureAlert(azureNasJobNames),
                        "criteria.allOf.0.query",
                        'ContainerAppConsoleLogs | where Log has "error"',
                    ),
                ),
                message: /its query does not look for "exited with status Failed" in ContainerAppSystemLogs/,
            },
        ],
    },
    "nas-backup-coverage": {
        compliant: [...stackWithNas, archiveClaim, archiveCronJob],
        nonCompliant: [
            {
                title: "an existing claim without NAS backup",
                input: [...stackWithNas, archiveClaim],
                message:
                    /existing-files-archive" \(file-share "archive"\) has no NAS backup job declaring it as its target and mounting claim "archive" read-only in namespace "backup"/,
            },
            {
                title: "an existing claim whose NAS backup mounts nothing (a backup of nothing)",
                input: [...stackWithNas, archiveClaim, withClaimVolume(() => undefined)],
                message: /existing-files-archive" \(file-share "archive"\) has no NAS backup job/,
            },
            {
                title: "an existing claim whose NAS backup mounts another claim",
                input: [
                    ...stackWithNas,
                    archiveClaim,
                    withClaimVolume((v) => ({ ...v, persistentVolumeClaim: { claimName: "other", readOnly: true } })),
                ],
                message: /existing-files-archive" \(file-share "archive"\) has no NAS backup job/,
            },
            {
                title: "an existing claim mounted writable",
                input: [
                    ...stackWithNas,
                    archiveClaim,
                    withClaimVolume((v) => ({ ...v, persistentVolumeClaim: { claimName: "archive" } })),
                ],
                message: /existing-files-archive" \(file-share "archive"\) has no NAS backup job/,
            },
            {
                title: "an existing claim backed up from another namespace",
                input: [...stackWithNas, archiveClaim, withProp(archiveCronJob, "metadata.namespace", "elsewhere")],
                message: /existing-files-archive" \(file-share "archive"\) has no NAS backup job/,
            },
            {
                title: "a file share without NAS backup",
                input: stackWithNas.filter((r) => r.name !== "nas-backup-file-share-images"),
                message: /share-images" \(file-share "images"\) has no NAS backup job/,
            },
            {
                title: "a database without NAS backup",
                input: [...stackWithNas, database("auth")],
                message: /db-auth" \(database "auth"\) has no NAS backup job/,
            },
            {
                title: "a NAS CronJob without target",
                input: [...stackWithNas, withProp(cronJob, "metadata.annotations", {})],
                message: /NAS backup job without a target/,
            },
        ],
    },
    "nas-backup-daily-schedule": {
        compliant: cronJob,
        nonCompliant: [
            {
                title: "every 6 hours",
                input: withProp(cronJob, "spec.schedule", "0 */6 * * *"),
                message: /spec.schedule is "0 \*\/6 \* \* \*"; the policy requires a daily schedule/,
            },
            { title: "weekly", input: withProp(cronJob, "spec.schedule", "0 2 * * 0"), message: /daily schedule/ },
            {
                title: "no time zone",
                input: withProp(cronJob, "spec.timeZone", undefined),
                message: `spec.timeZone is not set; the policy requires ${nas.timeZone.value}.`,
            },
            { title: "suspended", input: withProp(cronJob, "spec.suspend", true), message: /spec.suspend is true/ },
            {
                title: "in the DST change hour",
                input: withProp(cronJob, "spec.schedule", "30 2 * * *"),
                message: /2:00–2:59 is skipped or repeated on DST changes/,
            },
        ],
    },
    "nas-cronjob-no-overlap": {
        compliant: pruneCronJob,
        nonCompliant: [
            {
                title: "concurrent runs allowed",
                input: withProp(cronJob, "spec.concurrencyPolicy", "Allow"),
                message: 'spec.concurrencyPolicy is "Allow"; a NAS CronJob requires "Forbid".',
            },
            {
                title: "not set",
                input: withProp(pruneCronJob, "spec.concurrencyPolicy", undefined),
                message: /is not set; a NAS CronJob requires "Forbid"/,
            },
        ],
    },
    "nas-job-bounded": {
        compliant: cronJob,
        nonCompliant: [
            {
                title: "no active deadline",
                input: withProp(cronJob, "spec.jobTemplate.spec.activeDeadlineSeconds", undefined),
                message: /activeDeadlineSeconds is not set; set a bound/,
            },
            {
                title: "no starting deadline",
                input: withProp(drillCronJob, "spec.startingDeadlineSeconds", undefined),
                message: /startingDeadlineSeconds is not set/,
            },
            {
                title: "a run that may outlast the day",
                input: withProp(cronJob, "spec.jobTemplate.spec.activeDeadlineSeconds", 24 * 3600),
                message: /a run must end within 24 h/,
            },
            {
                title: "no backoff limit",
                input: withProp(cronJob, "spec.jobTemplate.spec.backoffLimit", undefined),
                message: /backoffLimit is not set/,
            },
        ],
    },
    ...nasJobCases(kubernetesJobs, [
        {
            title: "database password from a ConfigMap",
            input: withEnv(cronJob, "PGPASSWORD", { valueFrom: { configMapKeyRef: { name: "x", key: "y" } } }),
            message: /PGPASSWORD is not from a secretKeyRef/,
        },
    ]),
    "nas-cronjob-restricted-pod": {
        compliant: drillCronJob,
        nonCompliant: [
            {
                title: "privilege escalation allowed",
                input: withProp(cronJob, `${pod}.containers.0.securityContext.allowPrivilegeEscalation`, true),
                message: /pod template: containers\[0\]\.securityContext\.allowPrivilegeEscalation must be false/,
            },
            {
                title: "sidecar as root",
                input: withProp(drillCronJob, `${pod}.initContainers.0.securityContext.runAsUser`, 0),
                message: /initContainers\[0\]\.securityContext\.runAsUser \(or the pod's\) is 0/,
            },
            {
                title: "inline NFS volume",
                input: withProp(cronJob, `${pod}.volumes`, [{ name: "share", nfs: { server: "nas", path: "/" } }]),
                message: /uses nfs/,
            },
        ],
    },
    "nas-namespace-restricted": {
        compliant: stackWithNas,
        nonCompliant: [
            {
                title: "baseline namespace",
                input: replaced(
                    stackWithNas,
                    "nas-namespace",
                    withProp(nasNamespace(), ["metadata", "labels", "pod-security.kubernetes.io/enforce"], "baseline"),
                ),
                message: /enforces "baseline"; the NAS requires "restricted"/,
            },
            {
                title: "namespace not managed",
                input: replaced(stackWithNas, "nas-namespace", undefined),
                message: /runs in namespace "backup", which this stack does not manage/,
            },
        ],
    },
    "azure-data-location-allowed": {
        compliant: server(),
        nonCompliant: [
            {
                title: "West Europe server",
                input: withProp(server(), "location", "westeurope"),
                message: `location is "westeurope"; the policy allows ${backupPolicy.regions.azure.value}.`,
            },
            {
                title: "vault without location",
                input: withProp(vault(), "location", undefined),
                message: /location is not set/,
            },
            {
                title: "storage in Sweden",
                input: withProp(storageAccount(), "location", "swedencentral"),
                message: /swedencentral/,
            },
        ],
    },
    "digitalocean-data-location-allowed": {
        compliant: digitalOceanCluster(),
        nonCompliant: [
            {
                title: "NYC3",
                input: withProp(digitalOceanCluster(), "region", "nyc3"),
                message: `region is "nyc3"; the policy allows ${backupPolicy.regions.digitalocean.value}.`,
            },
            {
                title: "file storage in ATL1",
                input: withProp(digitalOceanNfs("documents"), "region", "atl1"),
                message: /"atl1"/,
            },
            { title: "DOKS in AMS3", input: withProp(digitalOceanKubernetes(), "region", "ams3"), message: /"ams3"/ },
            {
                title: "VPC without region",
                input: withProp(digitalOceanVpc(), "region", undefined),
                message: /region is not set/,
            },
        ],
    },
    "digitalocean-database-private-network": {
        compliant: digitalOceanCluster(),
        nonCompliant: [
            {
                title: "no VPC",
                input: withProp(digitalOceanCluster(), "privateNetworkUuid", undefined),
                message: "privateNetworkUuid is not set; the policy requires the cluster in a private network (VPC).",
            },
            { title: "empty VPC id", input: withProp(digitalOceanCluster(), "privateNetworkUuid", ""), message: /""/ },
        ],
    },
    "digitalocean-database-firewall-restricted": {
        compliant: digitalOceanFirewall(),
        nonCompliant: [
            {
                title: "the whole internet",
                input: withProp(digitalOceanFirewall(), "rules", [{ type: "ip_addr", value: "0.0.0.0/0" }]),
                message: 'rules admit ip_addr "0.0.0.0/0" (an address range or a public address)',
            },
            {
                title: "a public address next to the cluster",
                input: withProp(digitalOceanFirewall(), "rules", [
                    { type: "k8s", value: "cluster" },
                    { type: "ip_addr", value: "203.0.113.7" },
                ]),
                message: /ip_addr "203.0.113.7"/,
            },
            {
                title: "a private range",
                input: withProp(digitalOceanFirewall(), "rules", [{ type: "ip_addr", value: "10.0.0.0/8" }]),
                message: /ip_addr "10.0.0.0\/8"/,
            },
            {
                title: "the SDK's misspelt type ipAddr",
                input: withProp(digitalOceanFirewall(), "rules", [{ type: "ipAddr", value: "10.0.0.5" }]),
                message: /rule type "ipAddr"/,
            },
            {
                title: "no rule (admits everyone)",
                input: withProp(digitalOceanFirewall(), "rules", []),
                message: /without a trusted source the database accepts connections from anywhere/,
            },
        ],
    },
    "digitalocean-database-has-firewall": {
        compliant: [digitalOceanCluster(), digitalOceanFirewall()],
        nonCompliant: [
            {
                title: "no firewall",
                input: [digitalOceanCluster()],
                message: `${types.doCluster} "staging-db" has no database firewall in this stack.`,
            },
            {
                title: "the firewall of another cluster",
                input: [
                    digitalOceanCluster(),
                    { ...withProp(digitalOceanFirewall(), "clusterId", "other"), propertyDependencies: {} },
                ],
                message: /has no database firewall/,
            },
        ],
    },
    "postgres-version-dumpable-by-nas-runner": {
        compliant: digitalOceanCluster(),
        nonCompliant: [
            {
                title: "DigitalOcean PostgreSQL newer than the runner's pg_dump",
                input: withProp(digitalOceanCluster(), "version", String(runnerPgDumpMajorVersion + 1)),
                message: `version is "${runnerPgDumpMajorVersion + 1}"; the NAS backup runner's pg_dump ${runnerPgDumpMajorVersion} refuses newer servers`,
            },
            {
                title: "Azure server newer than the runner's pg_dump",
                input: withProp(server(), "version", String(runnerPgDumpMajorVersion + 2)),
                message: /refuses newer servers/,
            },
            {
                title: "version not set (the provider's default is the newest)",
                input: withProp(digitalOceanCluster(), "version", undefined),
                message: `version is not set; the NAS backup runner can dump PostgreSQL up to ${runnerPgDumpMajorVersion}.`,
            },
        ],
    },
    "stateful-resources-protected": {
        compliant: server(),
        nonCompliant: [
            {
                title: "server",
                input: { ...server(), protect: false },
                message: /protect is false; the policy requires protect: true/,
            },
            { title: "vault", input: { ...vault(), protect: false }, message: /protect is false/ },
            { title: "storage account", input: { ...storageAccount(), protect: false }, message: /protect is false/ },
            {
                title: "DigitalOcean database cluster",
                input: { ...digitalOceanCluster(), protect: false },
                message: /protect is false/,
            },
            {
                title: "DigitalOcean database firewall",
                input: { ...digitalOceanFirewall(), protect: false },
                message: /protect is false/,
            },
            {
                title: "DOKS cluster",
                input: { ...digitalOceanKubernetes(), protect: false },
                message: /protect is false/,
            },
            {
                title: "Network File Storage",
                input: { ...digitalOceanNfs("images"), protect: false },
                message: /protect is false/,
            },
            { title: "PostgreSQL database", input: database("main"), message: /protect is false/ },
            { title: "file share", input: fileShare("documents"), message: /protect is false/ },
        ],
    },
};

/**
 * The compliant stack as a first `pulumi preview` sees it: share names, item names and ids unknown,
 * the links only in the engine's property dependencies.
 */
export function previewOfStack(): ResourceUnderTest[] {
    return stack.map((r) => {
        if (r.type === types.share) return withProp(r, "shareName", unknown);
        if (r.type !== types.item) return r;
        const share = stack.find((s) => s.type === types.share && r.name.endsWith(String(s.props.shareName)))!;
        const item = [
            "properties.policyId",
            "properties.sourceResourceId",
            "properties.friendlyName",
            "protectedItemName",
        ].reduce((i, p) => withProp(i, p, unknown), r);
        return {
            ...item,
            propertyDependencies: {
                properties: [protectionPolicy().urn!, storageAccount().urn!, share.urn!],
                protectedItemName: [share.urn!],
            },
        };
    });
}

/**
 * The NAS rules that apply to Container Apps Jobs (prod/trial), each with a compliant Container Apps Job
 * (or stack) and non-compliant changes. The Kubernetes-only rules (no overlap, restricted pod, namespace)
 * have no entry: they do not apply to Container Apps Jobs.
 */
export const containerAppsJobCases: Record<string, Case> = {
    "nas-backup-daily-schedule": {
        compliant: appsJob,
        nonCompliant: [
            {
                title: "22:30 UTC (twice on the autumn change's Berlin day, never on the spring change's)",
                input: withProp(appsJob, "configuration.scheduleTriggerConfig.cronExpression", "30 22 * * *"),
                message:
                    /cronExpression is "30 22 \* \* \*"; Container Apps evaluates it in UTC, and that time falls twice or not at all/,
            },
            {
                title: "every 6 hours",
                input: withProp(appsJob, "configuration.scheduleTriggerConfig.cronExpression", "0 */6 * * *"),
                message:
                    /cronExpression is "0 \*\/6 \* \* \*"; the policy requires a daily schedule "M H \* \* \*" \(UTC\)/,
            },
            {
                title: "no schedule",
                input: withProp(appsJob, "configuration.scheduleTriggerConfig", undefined),
                message: /cronExpression is not set; the policy requires a daily schedule/,
            },
            {
                title: "manual trigger",
                input: withProp(appsJob, "configuration.triggerType", "Manual"),
                message: 'configuration.triggerType is "Manual"; a NAS backup job requires "Schedule".',
            },
        ],
    },
    "nas-backup-coverage": {
        compliant: stackWithContainerAppsJobs,
        nonCompliant: [
            {
                title: "the scratch share, once a job other than verify and drill mounts it (no longer a drill scratch)",
                input: scratchMountedByPrune,
                message: /scratch-share" \(file-share "drill-scratch"\) has no NAS backup job/,
            },
            {
                title: "a file share without NAS backup job",
                input: stackWithContainerAppsJobs.filter((r) => r.name !== "nas-job-file-share-images"),
                message: /share-images" \(file-share "images"\) has no NAS backup job/,
            },
            {
                title: "a side service's database without NAS backup job",
                input: stackWithContainerAppsJobs.filter((r) => r.name !== "nas-job-database-auth"),
                message: /db-auth" \(database "auth"\) has no NAS backup job/,
            },
            {
                title: "the backup job lacks its NAS backup tag (only prune, verify, drill run)",
                input: replaced(
                    stackWithContainerAppsJobs,
                    "nas-job-database-messaging",
                    withProp(containerAppsJob({ kind: "database", name: "messaging" }), "tags", {}),
                ),
                message: /db-messaging" \(database "messaging"\) has no NAS backup job/,
            },
            {
                title: "a NAS backup job without its target tags",
                input: replaced(
                    stackWithContainerAppsJobs,
                    "nas-job-database-main",
                    withProp(withProp(appsJob, tag("targetKind"), undefined), tag("targetName"), undefined),
                ),
                message: /azure-native:app:Job "nas-job-database-main" is a NAS backup job without a target/,
            },
        ],
    },
    "nas-job-bounded": {
        compliant: appsJob,
        nonCompliant: [
            {
                title: "no replica timeout",
                input: withProp(appsJob, "configuration.replicaTimeout", undefined),
                message: "configuration.replicaTimeout is not set; set a bound.",
            },
            {
                title: "no retry limit",
                input: withProp(drillAppsJob, "configuration.replicaRetryLimit", undefined),
                message: "configuration.replicaRetryLimit is not set; set a bound.",
            },
            {
                title: "retries that may outlast the day",
                input: withProp(appsJob, "configuration.replicaTimeout", 8 * 3600),
                message:
                    /replicaTimeout × \(replicaRetryLimit \+ 1\) is 86400 s; a run and its retries must end within 24 h/,
            },
        ],
    },
    ...nasJobCases(containerAppsJobs, [
        {
            title: "plain database password beside a secretRef",
            input: withAppsEnv(appsJob, "PGPASSWORD", { value: "x", secretRef: "database-password" }),
            message: /env PGPASSWORD is not a secretRef/,
        },
        {
            title: "secretRef to a secret the job does not have",
            input: withAppsEnv(pruneAppsJob, "NAS_BACKUP_MAINTENANCE_PASSWORD", { secretRef: "nas-admin" }),
            message:
                /NAS_BACKUP_MAINTENANCE_PASSWORD references secret "nas-admin", which is not one of configuration.secrets/,
        },
    ]),
};
