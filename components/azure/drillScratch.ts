/**
 * The drill scratch share of prod/trial (§2.10): where every verify and drill job restores a target's
 * newest backup, beyond the 8 GiB of ephemeral storage a Container Apps replica has. An NFS Azure
 * Files share (the only writable storage Container Apps mounts beyond the replica that gives the
 * scratch server's data directory its owner and mode 0700) in a premium FileStorage account without
 * public network access, reached through a private endpoint (group `file`) in a subnet of its own and
 * the private DNS zone `privatelink.file.core.windows.net` linked to the VNet, mounted through an
 * environment storage (`nfsAzureFile`). Not a `Microsoft.Storage` service endpoint: a Container Apps
 * Job in an internal environment was reported unable to mount that way ("access denied by server"),
 * and Microsoft's working sample for a Job uses this configuration (microsoft/azure-container-apps
 * issue 1782, simonjj/aca-vnet-nfs).
 *
 * Sources: azure-docs container-apps/storage-mounts.md (NFS: custom VNet, the account must allow the
 * VNet, server `<account>.file.core.windows.net` — here its privatelink name, as in the sample — share `/<account>/<share>`, `subPath`),
 * storage/files/files-nfs-protocol.md (private endpoint or service endpoint; NFS shares are premium,
 * LRS/ZRS only, no encryption in transit), SupportArticles-docs files-troubleshoot-linux-nfs.md
 * (NFS fails with "secure transfer required" on; port 2049). README.md "Drill scratch space".
 */
import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { SCRATCH_SERVER_WAL_BYTES } from "../../runner/src/scratch";
import { linkedPrivateZone } from "./privateZone";
import { backupPolicy } from "../policy";
import {
    drillScratchAccount,
    drillScratchPrivateLink,
    premiumShareQuotaGiB,
    shareSoftDeleteRetentionDays,
} from "./settings";

/** Name of the NFS share in the scratch account, and of the environment storage that mounts it. */
export const drillScratchShareName = "drill-scratch";

/** The stack configuration key that sizes the share (named by the runner's room error). */
export const drillScratchQuotaKey = "nasBackup.drillScratch.quotaGiB";

export interface DrillScratchSizing {
    /** The database server's storage (GB): every database lives on it, so no restored copy exceeds it. */
    readonly databaseServerGB: number;
    readonly databases: number;
    readonly shares: number;
    readonly shareQuotaGiB: number;
}

/**
 * The default quota: every verify job starts at the same time (nasJobSchedule.ts), so the share must
 * hold every restore at once: the databases (at most the server's storage, each with its scratch
 * server's WAL) and every share (at most its quota). At least the premium minimum, at most its maximum.
 */
export function defaultDrillScratchQuotaGiB(sizing: DrillScratchSizing): number {
    const walGiB = Math.ceil(SCRATCH_SERVER_WAL_BYTES / 2 ** 30);
    const sum = sizing.databaseServerGB + sizing.databases * walGiB + sizing.shares * sizing.shareQuotaGiB;
    return Math.min(premiumShareQuotaGiB.max, Math.max(premiumShareQuotaGiB.min, sum));
}

export interface DrillScratchArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly tags: Record<string, string>;
    /** Storage account name (3–24 lower-case letters and digits, globally unique; validated with the config). */
    readonly accountName: string;
    readonly quotaGiB: number;
    /** Where the private endpoint goes: its own subnet of the stack's VNet, which the DNS zone is linked to. */
    readonly network: {
        readonly virtualNetworkName: pulumi.Input<string>;
        readonly virtualNetworkId: pulumi.Input<string>;
        /** CIDR of the endpoint's subnet (validated with the config: inside the VNet, apart from the others). */
        readonly endpointSubnetPrefix: string;
        /** The VNet's subnet created before the endpoint's: Azure writes one subnet of a VNet at a time. */
        readonly createdAfter?: pulumi.Resource;
    };
    readonly environmentName: pulumi.Input<string>;
}

/**
 * The account's arguments (pure, tested directly). Secure transfer required is off because Azure Files
 * refuses NFS mounts with it on (NFS has no TLS in Azure Files; SupportArticles-docs
 * files-troubleshoot-linux-nfs.md, "Secure transfer required is enabled"); no public network access
 * and network rules denying every network (NFS authenticates by network alone: only the private
 * endpoint gets in), no shared key and no public blob access. Not geo-redundant and not doubly encrypted: NFS shares are LRS/ZRS only and infrastructure
 * encryption is for general-purpose v2 and premium block blob accounts (azure-docs
 * storage/common/infrastructure-encryption-enable.md); it holds restored copies only, never a backup.
 */
export function drillScratchAccountArgs(args: DrillScratchArgs): azure.storage.StorageAccountArgs {
    return {
        accountName: args.accountName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: drillScratchAccount.kind,
        sku: { name: drillScratchAccount.sku },
        enableHttpsTrafficOnly: false,
        minimumTlsVersion: backupPolicy.encryption.storageMinTls.value,
        allowBlobPublicAccess: false,
        allowCrossTenantReplication: false,
        allowSharedKeyAccess: false,
        publicNetworkAccess: azure.storage.PublicNetworkAccess.Disabled,
        networkRuleSet: {
            defaultAction: azure.storage.DefaultAction.Deny,
            bypass: azure.storage.Bypass.None,
            ipRules: [],
            virtualNetworkRules: [],
        },
        tags: args.tags,
    };
}

/** The drill scratch share and its environment storage (child of the NAS backup component). */
export class DrillScratch extends pulumi.ComponentResource {
    /** The environment storage the verify and drill jobs name in their `NfsAzureFile` volume. */
    public readonly storageName: string = drillScratchShareName;
    public readonly storage: azure.app.ManagedEnvironmentsStorage;

    constructor(name: string, args: DrillScratchArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:DrillScratch", name, {}, opts);
        // Protected like every account and share: deleting them during a drill would fail it.
        const account = new azure.storage.StorageAccount(`${name}-account`, drillScratchAccountArgs(args), {
            parent: this,
            protect: true,
        });
        const endpoint = this.privateEndpoint(name, args, account);
        const fileService = new azure.storage.FileServiceProperties(
            `${name}-file-service`,
            {
                accountName: account.name,
                resourceGroupName: args.resourceGroupName,
                fileServicesName: "default",
                shareDeleteRetentionPolicy: { enabled: true, days: shareSoftDeleteRetentionDays },
            },
            { parent: this },
        );
        const share = new azure.storage.FileShare(
            `${name}-share`,
            {
                shareName: drillScratchShareName,
                accountName: account.name,
                resourceGroupName: args.resourceGroupName,
                shareQuota: args.quotaGiB,
                enabledProtocols: azure.storage.EnabledProtocols.NFS,
                // The init container (root) gives each job its directory, owned by the runner's user.
                rootSquash: azure.storage.RootSquashType.NoRootSquash,
            },
            { parent: this, protect: true, dependsOn: [fileService] },
        );
        this.storage = new azure.app.ManagedEnvironmentsStorage(
            `${name}-storage`,
            {
                environmentName: args.environmentName,
                resourceGroupName: args.resourceGroupName,
                storageName: drillScratchShareName,
                properties: {
                    nfsAzureFile: {
                        // The privatelink name, as Microsoft's working sample mounts it (issue 1782): it
                        // resolves only through the linked zone, to the endpoint, never to the public front end.
                        server: pulumi.interpolate`${account.name}.${drillScratchPrivateLink.dnsZone}`,
                        shareName: pulumi.interpolate`/${account.name}/${share.name}`,
                        accessMode: azure.app.AccessMode.ReadWrite,
                    },
                },
            },
            // The name resolves to the endpoint only once its A record is in the linked zone.
            { parent: this, dependsOn: [endpoint] },
        );
        this.registerOutputs({ accountName: account.name, shareName: share.name, storageName: this.storageName });
    }

    /**
     * The account's private endpoint (group `file`) in a subnet of its own, and the private DNS zone
     * `privatelink.file.core.windows.net` linked to the VNet, its A record managed by the endpoint's
     * zone group: `<account>.privatelink.file.core.windows.net` then resolves to the endpoint's address.
     * The zone and link hold no data (not protected). Returns the zone group (created after the link).
     */
    private privateEndpoint(
        name: string,
        args: DrillScratchArgs,
        account: azure.storage.StorageAccount,
    ): azure.network.PrivateDnsZoneGroup {
        const { virtualNetworkName, endpointSubnetPrefix } = args.network;
        const subnet = new azure.network.Subnet(
            `${name}-endpoint-subnet`,
            {
                subnetName: "drill-scratch-endpoint",
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName,
                addressPrefix: endpointSubnetPrefix,
            },
            { parent: this, dependsOn: args.network.createdAfter ? [args.network.createdAfter] : [] },
        );
        const endpoint = new azure.network.PrivateEndpoint(
            `${name}-endpoint`,
            {
                privateEndpointName: pulumi.interpolate`${account.name}-file`,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                subnet: { id: subnet.id },
                privateLinkServiceConnections: [
                    {
                        name: "file",
                        privateLinkServiceId: account.id,
                        groupIds: [drillScratchPrivateLink.groupId],
                    },
                ],
                tags: args.tags,
            },
            { parent: this },
        );
        return this.privateDns(name, args, endpoint);
    }

    /** The zone `privatelink.file.core.windows.net`, its VNet link, the endpoint's zone group (its A record). */
    private privateDns(
        name: string,
        args: DrillScratchArgs,
        endpoint: azure.network.PrivateEndpoint,
    ): azure.network.PrivateDnsZoneGroup {
        const { zone, link } = linkedPrivateZone(
            name,
            {
                zoneName: drillScratchPrivateLink.dnsZone,
                linkName: "drill-scratch-vnet",
                resourceGroupName: args.resourceGroupName,
                virtualNetworkId: args.network.virtualNetworkId,
                tags: args.tags,
            },
            this,
        );
        return new azure.network.PrivateDnsZoneGroup(
            `${name}-dns-zone-group`,
            {
                privateDnsZoneGroupName: "default",
                privateEndpointName: endpoint.name,
                resourceGroupName: args.resourceGroupName,
                privateDnsZoneConfigs: [{ name: "file", privateDnsZoneId: zone.id }],
            },
            { parent: this, dependsOn: [link] },
        );
    }
}
