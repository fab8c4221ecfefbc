/**
 * Staging (§2.5.1.2): DigitalOcean FRA1, backed up only to the NAS. Composes the DigitalOcean
 * components (components/digitalocean/) from the validated configuration.
 */
import * as pulumi from "@pulumi/pulumi";
import { DoksCluster } from "../components/digitalocean/kubernetes";
import { DigitalOceanNetwork, DigitalOceanProject } from "../components/digitalocean/environment";
import {
    ExistingFileClaims,
    type FileShareEndpoint,
    NetworkFileStorage,
    NfsClaims,
} from "../components/digitalocean/fileStorage";
import { ClusterMonitoring } from "../components/digitalocean/monitoring";
import { ManagedPostgres } from "../components/digitalocean/postgres";
import { managedPostgresPort, nasBackupNamespace } from "../components/digitalocean/settings";
import { NasBackup } from "../components/kubernetes/nasBackup";
import { backupPolicy } from "../components/policy";
import type { DigitalOceanStackConfig } from "./config";

/** What `pulumi stack output -s staging` shows. */
export interface DigitalOceanStackOutputs {
    readonly kubernetesClusterId: pulumi.Output<string>;
    readonly kubernetesVersion: pulumi.Output<string>;
    readonly postgresClusterId: pulumi.Output<string>;
    readonly postgresPrivateHost: pulumi.Output<string>;
    readonly postgresPort: pulumi.Output<number>;
    readonly postgresDatabaseNames: pulumi.Output<string[]>;
    readonly fileShareNames: pulumi.Output<string[]>;
    readonly nasBackupNamespace: pulumi.Output<string>;
    /**
     * Secret: the restic key of every NAS backup of this stack. Without it no backup can be read, so
     * it is kept in the stack's state too, where it survives the cluster.
     */
    readonly nasRepositoryPassword: pulumi.Output<string>;
}

/** Tags of every taggable DigitalOcean resource (DigitalOcean tags are plain words, no key=value). */
export function digitalOceanTags(config: DigitalOceanStackConfig): string[] {
    return [
        `environment-${config.environment}`,
        `data-classification-${config.dataClassification}`,
        `backup-policy-${backupPolicy.version.value.replace(/\./g, "-")}`,
    ];
}

export function digitalOceanStack(config: DigitalOceanStackConfig): DigitalOceanStackOutputs {
    const settings = config.digitalocean;
    const tags = digitalOceanTags(config);

    const network = new DigitalOceanNetwork("network", {
        name: settings.name,
        region: settings.region,
        ipRange: settings.vpc.ipRange,
    });
    const cluster = new DoksCluster("kubernetes", {
        name: settings.name,
        region: settings.region,
        vpcId: network.vpcId,
        versionPrefix: settings.kubernetes.versionPrefix,
        ha: settings.kubernetes.ha,
        nodePool: settings.kubernetes.nodePool,
        maintenance: settings.maintenance,
        tags,
    });
    const postgres = new ManagedPostgres("postgres", {
        name: settings.name,
        region: settings.region,
        version: settings.postgres.version,
        size: settings.postgres.size,
        nodeCount: settings.postgres.nodeCount,
        vpcId: network.vpcId,
        databaseNames: config.databases.map((database) => database.name),
        kubernetesClusterId: cluster.clusterId,
        maintenance: settings.maintenance,
        tags,
    });
    const files = networkFileStorage(config, network.vpcId, tags);
    const monitoring = settings.monitoring.install
        ? new ClusterMonitoring("monitoring", {
              provider: cluster.provider,
              receiver: settings.monitoring.alertReceiver,
              chartVersion: settings.monitoring.chartVersion,
          })
        : undefined;
    const nas = nasBackup(config, { cluster, postgres, files, monitoring });
    new DigitalOceanProject("project", {
        name: settings.name,
        description: `Staging of the Digital Automotive SaaS (Data Backup Policy ${backupPolicy.version.value} §2.5.1.2)`,
        resources: [cluster.clusterUrn, postgres.clusterUrn],
    });

    return {
        kubernetesClusterId: cluster.clusterId,
        kubernetesVersion: cluster.version,
        postgresClusterId: postgres.clusterId,
        postgresPrivateHost: postgres.privateHost,
        postgresPort: postgres.port,
        postgresDatabaseNames: postgres.databaseNames,
        fileShareNames: pulumi.output(config.shares.map((share) => fileResourceName(config, share))),
        nasBackupNamespace: nas.namespace,
        nasRepositoryPassword: nas.repositoryPassword,
    };
}

/** A file resource's name as the NAS backup declares it (and, when managed, its share's name). */
function fileResourceName(config: DigitalOceanStackConfig, share: string): string {
    return `${config.digitalocean.name}-${share}`;
}

/**
 * The managed Network File Storage shares: every file resource not named in
 * `fileStorage.existingClaims`; none (and no component) when all are existing claims.
 */
function networkFileStorage(
    config: DigitalOceanStackConfig,
    vpcId: pulumi.Output<string>,
    tags: string[],
): NetworkFileStorage | undefined {
    const { region, fileStorage } = config.digitalocean;
    const managed = config.shares.filter((share) => !(share in fileStorage.existingClaims));
    if (managed.length === 0 || fileStorage.share === undefined) return undefined;
    return new NetworkFileStorage("files", {
        region,
        vpcId,
        shares: Object.fromEntries(managed.map((share) => [share, fileResourceName(config, share)])),
        sizeGiB: fileStorage.share.sizeGiB,
        performanceTier: fileStorage.share.performanceTier,
        tags,
    });
}

/**
 * The staging NAS backups (§2.5.1.2, the only backup of staging): one target per database, straight
 * to the cluster's private host with TLS verified against the cluster's CA (never a connection
 * pool), and one per file share, mounted read-only through its claim.
 */
function nasBackup(
    config: DigitalOceanStackConfig,
    parts: {
        cluster: DoksCluster;
        postgres: ManagedPostgres;
        files: NetworkFileStorage | undefined;
        monitoring: ClusterMonitoring | undefined;
    },
): NasBackup {
    const { cluster, postgres, files, monitoring } = parts;
    const settings = config.nasBackup;
    const vpcRange = config.digitalocean.vpc.ipRange;
    const existingClaims = config.digitalocean.fileStorage.existingClaims;
    const secret = (value: string) => pulumi.secret(value);
    const backup = new NasBackup(
        "nas",
        {
            provider: cluster.provider,
            namespace: nasBackupNamespace,
            image: settings.image,
            scratchPostgresImage: settings.scratchPostgresImage,
            dailyBackupTime: settings.dailyBackupTime,
            nas: {
                appendOnly: { ...settings.nas.appendOnly, password: secret(settings.nas.appendOnly.password) },
                maintenance: { ...settings.nas.maintenance, password: secret(settings.nas.maintenance.password) },
                caCertificate: settings.nas.caCertificate,
                cidrs: settings.nas.cidrs,
            },
            databases: config.databases.map((database) => ({
                name: database.name,
                host: postgres.privateHost,
                port: managedPostgresPort,
                role: postgres.user,
                password: postgres.password,
                tls: { mode: "verify-ca" as const, caCertificate: postgres.caCertificate },
                cidrs: [vpcRange],
            })),
            fileResources: config.shares.map((share) => ({
                name: fileResourceName(config, share),
                target: share,
                claimName: existingClaims[share]?.claimName ?? share,
            })),
            alerts: {
                prometheusRule: true,
                ruleLabels: monitoring?.ruleLabels ?? config.digitalocean.monitoring.ruleLabels,
            },
        },
        { dependsOn: monitoring ? [monitoring] : [] },
    );
    fileClaims(config, cluster.provider, backup, files?.shares ?? []);
    return backup;
}

/**
 * The claims the NAS backups mount, in the namespace the component creates: read-only claims of the
 * managed shares, and a marker on every existing claim (see ExistingFileClaims).
 */
function fileClaims(
    config: DigitalOceanStackConfig,
    provider: DoksCluster["provider"],
    backup: NasBackup,
    shares: readonly FileShareEndpoint[],
): void {
    if (shares.length > 0) {
        new NfsClaims(
            "nas-files",
            {
                provider,
                namespace: backup.namespace,
                shares,
                volumeNamePrefix: `${config.digitalocean.name}-nas`,
                accessMode: "ReadOnlyMany",
            },
            { dependsOn: [backup] },
        );
    }
    const existing = Object.entries(config.digitalocean.fileStorage.existingClaims);
    if (existing.length > 0) {
        new ExistingFileClaims(
            "existing-files",
            {
                provider,
                claims: existing.map(([share, claim]) => ({ ...claim, fileResource: fileResourceName(config, share) })),
            },
            { dependsOn: [backup] },
        );
    }
}
