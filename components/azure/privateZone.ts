import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";

export interface LinkedPrivateZoneArgs {
    readonly zoneName: pulumi.Input<string>;
    readonly linkName: pulumi.Input<string>;
    readonly resourceGroupName: pulumi.Input<string>;
    readonly virtualNetworkId: pulumi.Input<string>;
    readonly tags: Record<string, string>;
}

/**
 * A private DNS zone (`<name>-dns`) and its link to the stack's VNet (`<name>-dns-link`, no
 * auto-registration), both children of `parent`: names in the zone resolve inside the VNet only.
 * Private DNS zones and their links are global resources.
 */
export function linkedPrivateZone(
    name: string,
    args: LinkedPrivateZoneArgs,
    parent: pulumi.Resource,
): { zone: azure.privatedns.PrivateZone; link: azure.privatedns.VirtualNetworkLink } {
    const zone = new azure.privatedns.PrivateZone(
        `${name}-dns`,
        {
            privateZoneName: args.zoneName,
            resourceGroupName: args.resourceGroupName,
            location: "global",
            tags: args.tags,
        },
        { parent },
    );
    const link = new azure.privatedns.VirtualNetworkLink(
        `${name}-dns-link`,
        {
            virtualNetworkLinkName: args.linkName,
            privateZoneName: zone.name,
            resourceGroupName: args.resourceGroupName,
            location: "global",
            virtualNetwork: { id: args.virtualNetworkId },
            registrationEnabled: false,
            tags: args.tags,
        },
        { parent },
    );
    return { zone, link };
}
