import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { databaseFirewallRuleTypes, MaintenanceDay, postgresEngine } from "./settings";

export interface ManagedPostgresArgs {
    /** Cluster name (changing it replaces the cluster: data loss). */
    readonly name: string;
    readonly region: string;
    /** PostgreSQL major version ("16"). */
    readonly version: string;
    readonly size: string;
    readonly nodeCount: number;
    /** The VPC the cluster is placed in (`privateNetworkUuid`; changing it replaces the cluster). */
    readonly vpcId: pulumi.Input<string>;
    /** One database per service: the main service and each side service (§2.14). */
    readonly databaseNames: readonly string[];
    /** The DOKS cluster, the only trusted source of the database firewall. */
    readonly kubernetesClusterId: pulumi.Input<string>;
    /** Weekly maintenance window, UTC. */
    readonly maintenance: { readonly day: MaintenanceDay; readonly startTime: string };
    readonly tags: readonly string[];
}

/**
 * DigitalOcean managed PostgreSQL for staging (§2.5.1.2): in the VPC, one database per service,
 * reachable only from the DOKS cluster, protected against deletion. Its backups are the NAS's
 * (DigitalOcean's own daily backups are kept 7 days only); the NAS connects over the private host
 * with TLS verified against the cluster's CA.
 */
export class ManagedPostgres extends pulumi.ComponentResource {
    public readonly clusterId: pulumi.Output<string>;
    /** DigitalOcean URN (for the project). */
    public readonly clusterUrn: pulumi.Output<string>;
    /** Host name inside the VPC; the NAS backups use it, never a connection pool. */
    public readonly privateHost: pulumi.Output<string>;
    public readonly port: pulumi.Output<number>;
    /** The cluster's default (administrator) user, owner of the databases. */
    public readonly user: pulumi.Output<string>;
    /** Secret. */
    public readonly password: pulumi.Output<string>;
    /** PEM of the CA that signed the cluster's server certificate. */
    public readonly caCertificate: pulumi.Output<string>;
    public readonly databaseNames: pulumi.Output<string[]>;

    constructor(name: string, args: ManagedPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:digitalocean:ManagedPostgres", name, {}, opts);

        const cluster = new digitalocean.DatabaseCluster(
            name,
            {
                name: args.name,
                engine: postgresEngine,
                version: args.version,
                region: args.region,
                size: args.size,
                nodeCount: args.nodeCount,
                privateNetworkUuid: args.vpcId,
                maintenanceWindows: [{ day: args.maintenance.day, hour: args.maintenance.startTime }],
                tags: [...args.tags],
            },
            { parent: this, protect: true, additionalSecretOutputs: ["password", "uri", "privateUri"] },
        );
        const databases = args.databaseNames.map(
            (database) =>
                new digitalocean.DatabaseDb(
                    `${name}-${database}`,
                    { clusterId: cluster.id, name: database },
                    { parent: this, protect: true },
                ),
        );
        // The firewall owns the whole trusted-sources list; without it the database accepts
        // connections from anywhere, so deleting it is as harmful as deleting the data.
        new digitalocean.DatabaseFirewall(
            `${name}-firewall`,
            {
                clusterId: cluster.id,
                rules: [{ type: databaseFirewallRuleTypes.kubernetesCluster, value: args.kubernetesClusterId }],
            },
            { parent: this, protect: true },
        );

        this.clusterId = cluster.id;
        this.clusterUrn = cluster.clusterUrn;
        this.privateHost = cluster.privateHost;
        this.port = cluster.port;
        this.user = cluster.user;
        this.password = pulumi.secret(cluster.password);
        this.caCertificate = digitalocean.getDatabaseCaOutput({ clusterId: cluster.id }, { parent: this }).certificate;
        this.databaseNames = pulumi.all(databases.map((database) => database.name));
        this.registerOutputs({
            clusterId: this.clusterId,
            privateHost: this.privateHost,
            port: this.port,
            databaseNames: this.databaseNames,
        });
    }
}
