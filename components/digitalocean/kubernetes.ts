import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";
import { kubeconfigExpireSeconds, MaintenanceDay } from "./settings";

export interface DoksClusterArgs {
    readonly name: string;
    readonly region: string;
    readonly vpcId: pulumi.Input<string>;
    /**
     * Kubernetes version prefix ("1.33."): the newest DOKS version with this prefix is used. A pinned
     * exact version would plan a replacement after DigitalOcean's forced patch upgrades.
     */
    readonly versionPrefix: string;
    /** High-availability control plane; set explicitly (defaults to on from 1.36, cannot be turned off). */
    readonly ha: boolean;
    /** The default node pool. Changing `size` replaces the whole cluster: add a KubernetesNodePool instead. */
    readonly nodePool: { readonly name: string; readonly size: string; readonly nodeCount: number };
    /** Weekly maintenance window, UTC (checked against the NAS job times by the stack configuration). */
    readonly maintenance: { readonly day: MaintenanceDay | "any"; readonly startTime: string };
    readonly tags: readonly string[];
}

/**
 * A DOKS cluster in the stack's VPC with automatic patch upgrades (surge) inside a maintenance
 * window, and a Kubernetes provider for it that survives kubeconfig expiry.
 */
export class DoksCluster extends pulumi.ComponentResource {
    public readonly clusterId: pulumi.Output<string>;
    /** DigitalOcean URN (for the project). */
    public readonly clusterUrn: pulumi.Output<string>;
    public readonly version: pulumi.Output<string>;
    public readonly provider: k8s.Provider;

    constructor(name: string, args: DoksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:digitalocean:DoksCluster", name, {}, opts);

        const version = digitalocean
            .getKubernetesVersionsOutput({ versionPrefix: args.versionPrefix }, { parent: this })
            .latestVersion.apply((latest) => {
                if (!latest) {
                    throw new Error(`DigitalOcean offers no Kubernetes version with prefix "${args.versionPrefix}"`);
                }
                return latest;
            });
        const cluster = new digitalocean.KubernetesCluster(
            name,
            {
                name: args.name,
                region: args.region,
                vpcUuid: args.vpcId,
                version,
                ha: args.ha,
                autoUpgrade: true,
                surgeUpgrade: true,
                maintenancePolicy: { day: args.maintenance.day, startTime: args.maintenance.startTime },
                nodePool: { ...args.nodePool },
                tags: [...args.tags],
            },
            { parent: this, protect: true },
        );

        // The kubeconfig stored on the cluster resource expires after 7 days (pulumi-digitalocean #77,
        // #312): fetch a fresh one on every run. `clusterIdentifier` keeps an unknown or changed
        // kubeconfig from replacing the provider and with it every Kubernetes resource (pulumi-kubernetes #577).
        const kubeconfig = digitalocean
            .getKubernetesClusterOutput({ name: cluster.name, kubeconfigExpireSeconds }, { parent: this })
            .kubeConfigs.apply((configs) => configs[0].rawConfig);
        this.provider = new k8s.Provider(
            name,
            { kubeconfig: pulumi.secret(kubeconfig), clusterIdentifier: cluster.id },
            { parent: this },
        );

        this.clusterId = cluster.id;
        this.clusterUrn = cluster.clusterUrn;
        this.version = cluster.version;
        this.registerOutputs({ clusterId: this.clusterId, clusterUrn: this.clusterUrn, version: this.version });
    }
}
