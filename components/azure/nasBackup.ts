/**
 * The NAS backups of prod/trial (§2.5.1.1): Container Apps Jobs inside the stack's virtual network
 * (the database has private access only) that run the NAS backup runner, as the Kubernetes CronJobs
 * do on staging (components/kubernetes/nasBackup.ts).
 *
 * Creates: the environment's own subnet (delegated to Microsoft.App/environments), an internal
 * Container Apps environment (workload profiles, Consumption) with its logs in the stack's workspace,
 * one read-only environment storage per file share, the drill scratch share verify and drill restore
 * onto (drillScratch.ts, behind its private endpoint), the restic repository key (@pulumi/random,
 * exported as a secret), four jobs per target (nasBackupJobs.ts) and the alerts (nasBackupAlerts.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import * as random from "@pulumi/random";
import { checkImage, checkRepositoryBase, target as targetName, type NasEndpointArgs } from "../kubernetes/args";
import { workspaceDiagnostics } from "./diagnostics";
import { DrillScratch } from "./drillScratch";
import { nasBackupAlerts } from "./nasBackupAlerts";
import {
    consumptionProfile,
    statusJob,
    targetJobs,
    type AzureTarget,
    type JobPlan,
    type JobPlanArgs,
    type JobSecretValues,
} from "./nasBackupJobs";
import { parseUtcBackupTime } from "./nasJobSchedule";
import { containerAppsSubnetDelegation, premiumShareQuotaGiB } from "./settings";

export interface AzureNasDatabaseArgs {
    /** The PostgreSQL database's name (the policy pack matches it against the stack's databases). */
    readonly name: string;
    /** The runner's target (its repository on the NAS); default: `name`. */
    readonly target?: string;
    readonly host: pulumi.Input<string>;
    readonly port: number;
    readonly role: pulumi.Input<string>;
    /** Made a Pulumi secret by the component in any case. */
    readonly password: pulumi.Input<string>;
    /** TLS verified against this CA bundle (PEM), §2.9. */
    readonly tls: { readonly mode: "verify-full" | "verify-ca"; readonly caCertificate: pulumi.Input<string> };
}

export interface AzureNasFileSharesArgs {
    readonly storageAccountName: pulumi.Input<string>;
    /** The account's key: only in the environment storages, as a secret. */
    readonly storageAccountKey: pulumi.Input<string>;
    readonly shares: readonly { readonly name: string; readonly target?: string }[];
}

export interface AzureNasBackupArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly tags: Record<string, string>;
    /** Name of the Container Apps environment (unique in the resource group). */
    readonly environmentName: string;
    readonly network: {
        readonly virtualNetworkName: pulumi.Input<string>;
        readonly virtualNetworkId: pulumi.Input<string>;
        readonly subnetName: string;
        /** CIDR of the environment's infrastructure subnet (validated: inside the VNet, apart, ≥ /27). */
        readonly subnetPrefix: string;
        /**
         * A subnet of the same VNet created before this one: Azure writes one subnet of a VNet at a time
         * and refuses a concurrent one (AnotherOperationInProgress).
         */
        readonly createdAfter?: pulumi.Resource;
    };
    readonly logAnalyticsWorkspaceId: pulumi.Input<string>;
    /** The runner image pinned by digest. */
    readonly image: string;
    /** "HH:MM" UTC, falling once in every Europe/Berlin day (nasJobSchedule.ts). */
    readonly dailyBackupTimeUtc: string;
    readonly nas: {
        readonly appendOnly: NasEndpointArgs;
        readonly maintenance: NasEndpointArgs;
        readonly caCertificate?: pulumi.Input<string>;
    };
    readonly databases: readonly AzureNasDatabaseArgs[];
    readonly fileShares?: AzureNasFileSharesArgs;
    /**
     * The drill scratch share (README.md "Drill scratch space"): its storage account (globally unique),
     * quota (GiB, premium: 100–102,400) and the init container's image (by digest; it runs as root).
     */
    readonly drillScratch: {
        readonly accountName: string;
        readonly quotaGiB: number;
        readonly initImage: string;
        /** CIDR of the scratch account's private endpoint subnet (validated: inside the VNet, apart from the others). */
        readonly endpointSubnetPrefix: string;
    };
    /** The action group the alerts notify; without it no alert rules are created. */
    readonly actionGroupId?: pulumi.Input<string>;
}

/** Container Apps job names: lower-case letters, digits and '-', starting with a letter, at most 32 characters. */
const jobNamePattern = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

function checkedTargets(args: AzureNasBackupArgs, storageName: (share: string) => pulumi.Input<string>): AzureTarget[] {
    const secret = (value: pulumi.Input<string>) => pulumi.secret(value);
    const databases = args.databases.map((db, i): AzureTarget => {
        const { target, k8sName } = targetName(`databases[${i}].target`, db.name, db.target);
        return { kind: "database", target, jobName: k8sName, ...db, password: secret(db.password) };
    });
    const shares = (args.fileShares?.shares ?? []).map((share, i): AzureTarget => {
        const { target, k8sName } = targetName(`fileShares.shares[${i}].target`, share.name, share.target);
        return { kind: "file-share", target, jobName: k8sName, name: share.name, storageName: storageName(share.name) };
    });
    const targets = [...databases, ...shares];
    for (const t of targets) {
        if (!jobNamePattern.test(`verify-${t.jobName}`)) {
            throw new Error(
                `target ${JSON.stringify(t.target)} is too long for a Container Apps job name (verify-${t.jobName}: at most 32 characters); set its "target".`,
            );
        }
    }
    const names = targets.map((t) => t.jobName);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate !== undefined) {
        throw new Error(`two targets are named ${JSON.stringify(duplicate)}; give one of them another "target".`);
    }
    return targets;
}

/** What the jobs read as secrets: the NAS credentials of both endpoints, the repository key and the NAS CA. */
function nasSecrets(args: AzureNasBackupArgs, repositoryKey: pulumi.Output<string>): JobSecretValues {
    const credentials = (endpoint: NasEndpointArgs) => ({
        user: pulumi.secret(endpoint.user),
        password: pulumi.secret(endpoint.password),
    });
    return {
        appendOnly: credentials(args.nas.appendOnly),
        maintenance: credentials(args.nas.maintenance),
        repositoryPassword: pulumi.secret(repositoryKey),
        nasCaCertificate: args.nas.caCertificate,
    };
}

/**
 * NAS backup Container Apps Jobs of one prod/trial stack. `repositoryPassword` (secret) is the restic
 * key of every repository: without it no NAS backup can be read; the stack exports it.
 */
export class AzureNasBackup extends pulumi.ComponentResource {
    public readonly repositoryPassword: pulumi.Output<string>;
    public readonly environmentId: pulumi.Output<string>;
    public readonly jobNames: pulumi.Output<string[]>;

    constructor(name: string, args: AzureNasBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:NasBackup", name, {}, opts);
        const checked = {
            image: checkImage("image", args.image),
            backupTime: parseUtcBackupTime(args.dailyBackupTimeUtc, "dailyBackupTimeUtc"),
            appendOnlyUrl: checkRepositoryBase("nas.appendOnly.repositoryBase", args.nas.appendOnly.repositoryBase),
            maintenanceUrl: checkRepositoryBase("nas.maintenance.repositoryBase", args.nas.maintenance.repositoryBase),
        };
        const { environment, subnet } = this.environment(name, args);
        const scratch = this.drillScratch(name, args, environment, subnet);
        const storages = new Map<string, azure.app.ManagedEnvironmentsStorage>();
        const targets = checkedTargets(args, (share) => {
            const storage = this.shareStorage(name, args, environment, share);
            storages.set(share, storage);
            return share; // the storage's name (`storageName`); the jobs depend on the storages
        });
        // The key of every NAS repository; losing it loses every NAS backup (exported as a secret).
        const repositoryKey = new random.RandomPassword(
            `${name}-repository-key`,
            { length: 48, special: false },
            { parent: this, protect: true },
        );
        const plan: JobPlanArgs = {
            ...checked,
            secrets: nasSecrets(args, repositoryKey.result),
            scratch: {
                storageName: scratch.storageName,
                initImage: checkImage("drillScratch.initImage", args.drillScratch.initImage),
            },
        };
        const plans = [...targets.flatMap((target) => targetJobs(target, plan)), statusJob(targets, plan)];
        const jobs = this.jobs(name, args, environment.id, plans, [...storages.values(), scratch.storage]);
        if (args.actionGroupId !== undefined) {
            nasBackupAlerts(
                `${name}-alerts`,
                {
                    resourceGroupName: args.resourceGroupName,
                    location: args.location,
                    tags: args.tags,
                    workspaceId: args.logAnalyticsWorkspaceId,
                    actionGroupId: args.actionGroupId,
                    targets: targets.map((t) => t.target),
                    jobNames: plans.map((job) => job.name),
                    namePrefix: args.environmentName,
                },
                this,
            );
        }
        this.repositoryPassword = pulumi.secret(repositoryKey.result);
        this.environmentId = environment.id;
        this.jobNames = pulumi.all(jobs.map((job) => job.name));
        this.registerOutputs({
            repositoryPassword: this.repositoryPassword,
            environmentId: this.environmentId,
            jobNames: this.jobNames,
        });
    }

    /** The Container Apps Jobs in the environment, created after the environment storages they mount. */
    private jobs(
        name: string,
        args: AzureNasBackupArgs,
        environmentId: pulumi.Output<string>,
        plans: readonly Omit<JobPlan, "operation" | "target">[],
        storages: readonly azure.app.ManagedEnvironmentsStorage[],
    ): azure.app.Job[] {
        return plans.map(
            (job) =>
                new azure.app.Job(
                    `${name}-${job.name}`,
                    {
                        jobName: job.name,
                        resourceGroupName: args.resourceGroupName,
                        location: args.location,
                        environmentId,
                        workloadProfileName: consumptionProfile,
                        configuration: job.configuration,
                        template: job.template,
                        tags: { ...args.tags, ...job.tags },
                    },
                    { parent: this, dependsOn: [...storages] },
                ),
        );
    }

    /**
     * The environment in its own delegated subnet: internal only, workload profiles (Consumption), logs
     * to the workspace. The drill scratch share is reached through its private endpoint (drillScratch.ts).
     */
    private environment(name: string, args: AzureNasBackupArgs) {
        const subnet = new azure.network.Subnet(
            `${name}-subnet`,
            {
                subnetName: args.network.subnetName,
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName: args.network.virtualNetworkName,
                addressPrefix: args.network.subnetPrefix,
                delegations: [{ name: "container-apps-environment", serviceName: containerAppsSubnetDelegation }],
            },
            { parent: this, dependsOn: args.network.createdAfter ? [args.network.createdAfter] : [] },
        );
        const environment = new azure.app.ManagedEnvironment(
            `${name}-environment`,
            {
                environmentName: args.environmentName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                workloadProfiles: [{ name: consumptionProfile, workloadProfileType: consumptionProfile }],
                vnetConfiguration: { infrastructureSubnetId: subnet.id, internal: true },
                // Logs through the diagnostic setting below (no workspace key in the environment).
                appLogsConfiguration: { destination: "azure-monitor" },
                tags: args.tags,
            },
            { parent: this },
        );
        workspaceDiagnostics(
            `${name}-diagnostics`,
            {
                resourceUri: environment.id,
                workspaceId: args.logAnalyticsWorkspaceId,
                logCategories: ["ContainerAppConsoleLogs", "ContainerAppSystemLogs"],
                dedicatedTables: true,
            },
            this,
        );
        return { environment, subnet };
    }

    /** The drill scratch share in the environment (a child component), its quota checked. */
    private drillScratch(
        name: string,
        args: AzureNasBackupArgs,
        environment: azure.app.ManagedEnvironment,
        environmentSubnet: azure.network.Subnet,
    ): DrillScratch {
        const { accountName, quotaGiB } = args.drillScratch;
        const { min, max } = premiumShareQuotaGiB;
        if (!Number.isInteger(quotaGiB) || quotaGiB < min || quotaGiB > max) {
            throw new Error(
                `drillScratch.quotaGiB ${quotaGiB} is not valid; allowed: a whole number from ${min} to ${max}`,
            );
        }
        if (!/^[a-z0-9]{3,24}$/.test(accountName)) {
            throw new Error(
                `drillScratch.accountName ${JSON.stringify(accountName)} is not valid; allowed: 3–24 lower-case letters and digits`,
            );
        }
        return new DrillScratch(
            `${name}-drill-scratch`,
            {
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                tags: args.tags,
                accountName,
                quotaGiB,
                network: {
                    virtualNetworkName: args.network.virtualNetworkName,
                    virtualNetworkId: args.network.virtualNetworkId,
                    endpointSubnetPrefix: args.drillScratch.endpointSubnetPrefix,
                    createdAfter: environmentSubnet,
                },
                environmentName: environment.name,
            },
            { parent: this },
        );
    }

    /** A file share mounted read-only through the environment; the account key only as a secret. */
    private shareStorage(
        name: string,
        args: AzureNasBackupArgs,
        environment: azure.app.ManagedEnvironment,
        share: string,
    ): azure.app.ManagedEnvironmentsStorage {
        const files = args.fileShares as AzureNasFileSharesArgs;
        return new azure.app.ManagedEnvironmentsStorage(
            `${name}-share-${share}`,
            {
                environmentName: environment.name,
                resourceGroupName: args.resourceGroupName,
                storageName: share,
                properties: {
                    azureFile: {
                        accountName: files.storageAccountName,
                        accountKey: pulumi.secret(files.storageAccountKey),
                        shareName: share,
                        accessMode: azure.app.AccessMode.ReadOnly,
                    },
                },
            },
            { parent: this },
        );
    }
}
