import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { linkedPrivateZone } from "./privateZone";
import { postgresPrivateDnsZoneSuffix, postgresSubnetDelegation } from "./settings";

export interface PostgresNetworkArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly tags: Record<string, string>;
    /** Server name: the private DNS zone is `<server>.private.postgres.database.azure.com`. */
    readonly serverName: string;
    readonly virtualNetworkName: pulumi.Input<string>;
    readonly virtualNetworkId: pulumi.Input<string>;
    readonly subnetName: string;
    /** Address prefix (CIDR) of the server's delegated subnet. */
    readonly subnetPrefix: string;
}

/**
 * Private access for one Flexible Server (§2.6): a subnet delegated to Flexible Server and a private
 * DNS zone linked to the VNet.
 */
export class PostgresNetwork extends pulumi.ComponentResource {
    public readonly subnetId: pulumi.Output<string>;
    /** The VNet's other subnets are created after it: Azure writes one subnet of a VNet at a time. */
    public readonly subnet: azure.network.Subnet;
    public readonly dnsZoneId: pulumi.Output<string>;
    /** A server with private access must be created after this link exists. */
    public readonly dnsLink: azure.privatedns.VirtualNetworkLink;

    constructor(name: string, args: PostgresNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:PostgresNetwork", name, {}, opts);
        const subnet = new azure.network.Subnet(
            `${name}-subnet`,
            {
                subnetName: args.subnetName,
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName: args.virtualNetworkName,
                addressPrefix: args.subnetPrefix,
                delegations: [{ name: "postgres-flexible-server", serviceName: postgresSubnetDelegation }],
            },
            { parent: this },
        );
        const dns = linkedPrivateZone(
            name,
            {
                zoneName: `${args.serverName}.${postgresPrivateDnsZoneSuffix}`,
                linkName: `${args.serverName}-vnet`,
                resourceGroupName: args.resourceGroupName,
                virtualNetworkId: args.virtualNetworkId,
                tags: args.tags,
            },
            this,
        );
        this.dnsLink = dns.link;
        this.subnet = subnet;
        this.subnetId = subnet.id;
        this.dnsZoneId = dns.zone.id;
        this.registerOutputs({ subnetId: this.subnetId, dnsZoneId: this.dnsZoneId });
    }
}
