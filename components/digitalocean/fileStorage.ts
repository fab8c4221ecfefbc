import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";
import { fileResourceClaimMetadata } from "../kubernetes/nasBackupContract";

export interface NetworkFileStorageArgs {
    readonly region: string;
    readonly vpcId: pulumi.Input<string>;
    /** File resources by their policy name ("documents", "images") → DigitalOcean share name. */
    readonly shares: Readonly<Record<string, string>>;
    readonly sizeGiB: number;
    readonly performanceTier: string;
    readonly tags: readonly string[];
}

/** One Network File Storage share as the cluster reaches it. */
export interface FileShareEndpoint {
    /** The file resource's policy name ("documents"). */
    readonly resource: string;
    /** The share's DigitalOcean name (the NAS backup target name). */
    readonly shareName: pulumi.Output<string>;
    /** NFS server address inside the VPC and the exported path. */
    readonly host: pulumi.Output<string>;
    readonly mountPath: pulumi.Output<string>;
    readonly sizeGiB: number;
}

/**
 * The staging file resources (§2.5.1.2 "Documents & Images"): one DigitalOcean Network File Storage
 * share each, in the VPC (reachable from the DOKS nodes only), protected against deletion.
 */
export class NetworkFileStorage extends pulumi.ComponentResource {
    public readonly shares: readonly FileShareEndpoint[];

    constructor(name: string, args: NetworkFileStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:digitalocean:NetworkFileStorage", name, {}, opts);
        this.shares = Object.entries(args.shares).map(([resource, shareName]) => {
            const share = new digitalocean.Nfs(
                `${name}-${resource}`,
                {
                    name: shareName,
                    region: args.region,
                    vpcId: args.vpcId,
                    size: args.sizeGiB,
                    performanceTier: args.performanceTier,
                    tags: [...args.tags],
                },
                { parent: this, protect: true },
            );
            return {
                resource,
                shareName: share.name,
                host: share.host,
                mountPath: share.mountPath,
                sizeGiB: args.sizeGiB,
            };
        });
        this.registerOutputs({ shareNames: this.shares.map((share) => share.shareName) });
    }
}

export interface NfsClaimsArgs {
    readonly provider: k8s.Provider;
    /** Namespace of the claims (the pods that mount them run there). */
    readonly namespace: pulumi.Input<string>;
    readonly shares: readonly FileShareEndpoint[];
    /** Prefix of the cluster-wide PersistentVolume names. */
    readonly volumeNamePrefix: string;
    /** ReadOnlyMany for the NAS backups (they only read). */
    readonly accessMode: "ReadOnlyMany" | "ReadWriteMany";
}

/**
 * Exposes NFS shares to pods as a static PersistentVolume + claim each: the restricted Pod Security
 * Standard forbids inline `nfs` volumes, and DOKS has no CSI driver for Network File Storage. The
 * volumes are `Retain`: deleting a claim never touches the share's data.
 */
export class NfsClaims extends pulumi.ComponentResource {
    /** Claim name per file resource ("documents" → "documents"). */
    public readonly claimNames: Readonly<Record<string, pulumi.Output<string>>>;

    constructor(name: string, args: NfsClaimsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:digitalocean:NfsClaims", name, {}, opts);
        const childOpts = { parent: this, provider: args.provider };
        const claims: Record<string, pulumi.Output<string>> = {};
        for (const share of args.shares) {
            const capacity = { storage: `${share.sizeGiB}Gi` };
            const volume = new k8s.core.v1.PersistentVolume(
                `${name}-${share.resource}`,
                {
                    metadata: { name: `${args.volumeNamePrefix}-${share.resource}` },
                    spec: {
                        capacity,
                        accessModes: [args.accessMode],
                        persistentVolumeReclaimPolicy: "Retain",
                        storageClassName: "",
                        mountOptions: ["nfsvers=4.1"],
                        nfs: { server: share.host, path: share.mountPath },
                        claimRef: { namespace: args.namespace, name: share.resource },
                    },
                },
                childOpts,
            );
            const claim = new k8s.core.v1.PersistentVolumeClaim(
                `${name}-${share.resource}`,
                {
                    metadata: { name: share.resource, namespace: args.namespace },
                    spec: {
                        accessModes: [args.accessMode],
                        storageClassName: "",
                        volumeName: volume.metadata.name,
                        resources: { requests: capacity },
                    },
                },
                childOpts,
            );
            claims[share.resource] = claim.metadata.name;
        }
        this.claimNames = claims;
        this.registerOutputs({ claimNames: claims });
    }
}

export interface ExistingFileClaimsArgs {
    readonly provider: k8s.Provider;
    /** Per file resource held in an existing claim: the claim, and the file resource's (target) name. */
    readonly claims: readonly {
        readonly namespace: string;
        readonly claimName: string;
        readonly fileResource: string;
    }[];
}

/**
 * File resources held in existing PersistentVolumeClaims (config `fileStorage.existingClaims`, e.g.
 * where Network File Storage is not offered). The stack does not own their data, so it creates no
 * volume; it marks each claim with a PersistentVolumeClaimPatch (label and annotation only) naming
 * the file resource. The patch is what the policy pack sees in place of a share, and `kubectl get pvc
 * -l backup-policy.it-manufactory.de/nas-backup=true` lists the claims the NAS backs up. A patch holds
 * no spec, so it cannot create a missing claim: the API server refuses a claim without one.
 */
export class ExistingFileClaims extends pulumi.ComponentResource {
    constructor(name: string, args: ExistingFileClaimsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:digitalocean:ExistingFileClaims", name, {}, opts);
        for (const claim of args.claims) {
            new k8s.core.v1.PersistentVolumeClaimPatch(
                `${name}-${claim.claimName}`,
                {
                    metadata: {
                        name: claim.claimName,
                        namespace: claim.namespace,
                        ...fileResourceClaimMetadata(claim.fileResource),
                    },
                },
                { parent: this, provider: args.provider },
            );
        }
        this.registerOutputs({});
    }
}
