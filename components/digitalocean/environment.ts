import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { projectEnvironment } from "./settings";

export interface DigitalOceanNetworkArgs {
    readonly name: string;
    readonly region: string;
    /** The VPC's private address range (CIDR). */
    readonly ipRange: string;
}

/** The staging VPC: the cluster, the database and the file storage talk to each other only inside it. */
export class DigitalOceanNetwork extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;

    constructor(name: string, args: DigitalOceanNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:digitalocean:Network", name, {}, opts);
        const vpc = new digitalocean.Vpc(
            name,
            {
                name: args.name,
                region: args.region,
                ipRange: args.ipRange,
                description: "Staging (Data Backup Policy §2.5.1.2)",
            },
            { parent: this },
        );
        this.vpcId = vpc.id;
        this.registerOutputs({ vpcId: this.vpcId });
    }
}

export interface DigitalOceanProjectArgs {
    readonly name: string;
    readonly description: string;
    /** DigitalOcean URNs ("do:kubernetes:…", "do:dbaas:…") of the resources the project groups. */
    readonly resources: readonly pulumi.Input<string>[];
}

/** A DigitalOcean project (environment Staging) grouping the staging resources in the control panel. */
export class DigitalOceanProject extends pulumi.ComponentResource {
    public readonly projectId: pulumi.Output<string>;

    constructor(name: string, args: DigitalOceanProjectArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:digitalocean:Project", name, {}, opts);
        const project = new digitalocean.Project(
            name,
            {
                name: args.name,
                description: args.description,
                environment: projectEnvironment,
                purpose: "Service or API",
                resources: [...args.resources],
            },
            { parent: this },
        );
        this.projectId = project.id;
        this.registerOutputs({ projectId: this.projectId });
    }
}
