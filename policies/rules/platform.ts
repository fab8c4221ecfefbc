/**
 * Where the data lives (§2.5.1.1 North Europe, §2.5.1.2 FRA1) and that the resources holding it
 * cannot be deleted by a stray `pulumi up`/`destroy` (§2.5: protection against accidental deletion).
 */
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { DatabaseCluster } from "@pulumi/digitalocean/databaseCluster";
import { DatabaseDb } from "@pulumi/digitalocean/databaseDb";
import { DatabaseFirewall } from "@pulumi/digitalocean/databaseFirewall";
import { KubernetesCluster } from "@pulumi/digitalocean/kubernetesCluster";
import { Nfs } from "@pulumi/digitalocean/nfs";
import { SpacesBucket } from "@pulumi/digitalocean/spacesBucket";
import { Vpc } from "@pulumi/digitalocean/vpc";
import { Database } from "@pulumi/azure-native/dbforpostgresql/database";
import { Server } from "@pulumi/azure-native/dbforpostgresql/server";
import { Vault } from "@pulumi/azure-native/recoveryservices/vault";
import { FileShare } from "@pulumi/azure-native/storage/fileShare";
import { StorageAccount } from "@pulumi/azure-native/storage/storageAccount";
import { allowedAzureLocations, allowedDigitalOceanRegions, backupPolicy } from "../../components/policy";
import { observe, record, shown } from "../lib/read";
import { backupRule, configSchema, settings } from "../lib/rule";

type ResourceClass = Parameters<ResourceValidationArgs["isType"]>[0];

/** Type tokens of resource classes, for descriptions and not-applicable reasons. */
function typesOf(classes: readonly ResourceClass[]): string {
    return classes.map((c) => (c as unknown as { __pulumiType: string }).__pulumiType).join(", ");
}

/** Marks a rule not applicable unless the resource is of one of `classes`. */
function onlyFor(args: ResourceValidationArgs, classes: readonly ResourceClass[]): void {
    if (!classes.some((c) => args.isType(c))) {
        args.notApplicable(`Policy only applies to resources of type ${typesOf(classes)}`);
    }
}

/** "North Europe", "northeurope" and "NorthEurope" are the same Azure region. */
export function normalizedAzureLocation(location: string): string {
    return location.replace(/\s+/g, "").toLowerCase();
}

/** Azure resources holding the data or its backups. */
const azureDataHolders: readonly ResourceClass[] = [Server, StorageAccount, Vault];
const azureDefaults = { allowedLocations: allowedAzureLocations };

export const azureDataLocationAllowed = backupRule<ResourceValidationPolicy>([backupPolicy.regions.azure], {
    name: "azure-data-location-allowed",
    description: `Azure resources holding data or backups are in ${azureDefaults.allowedLocations.join(", ")} (location).`,
    configSchema: configSchema(azureDefaults, {
        allowedLocations: {
            type: "array",
            items: { type: "string" },
            minItems: 1,
            description: "Azure regions data may be hosted in",
        },
    }),
    validateResource: (args, reportViolation) => {
        onlyFor(args, azureDataHolders);
        const { allowedLocations } = settings(args, azureDefaults);
        const location = observe(args, args.props as { location?: unknown }, "location");
        const allowed = allowedLocations.map(normalizedAzureLocation);
        if (typeof location !== "string" || !allowed.includes(normalizedAzureLocation(location))) {
            reportViolation(`location is ${shown(location)}; the policy allows ${allowedLocations.join(", ")}.`);
        }
    },
});

/** DigitalOcean regional resources: those holding the staging data and those it runs or travels in. */
const digitalOceanRegionalResources: readonly ResourceClass[] = [
    DatabaseCluster,
    Nfs,
    SpacesBucket,
    KubernetesCluster,
    Vpc,
];
const digitalOceanDefaults = { allowedRegions: allowedDigitalOceanRegions };

export const digitalOceanDataLocationAllowed = backupRule<ResourceValidationPolicy>(
    [backupPolicy.regions.digitalocean],
    {
        name: "digitalocean-data-location-allowed",
        description: `DigitalOcean regional resources of staging (data, cluster, network) are in ${digitalOceanDefaults.allowedRegions.join(", ")} (region).`,
        configSchema: configSchema(digitalOceanDefaults, {
            allowedRegions: {
                type: "array",
                items: { type: "string" },
                minItems: 1,
                description: "DigitalOcean regions data may be hosted in",
            },
        }),
        validateResource: (args, reportViolation) => {
            onlyFor(args, digitalOceanRegionalResources);
            const { allowedRegions } = settings(args, digitalOceanDefaults);
            const region = observe(args, args.props as { region?: unknown }, "region");
            if (
                typeof region !== "string" ||
                !allowedRegions.map((r) => r.toLowerCase()).includes(region.toLowerCase())
            ) {
                reportViolation(`region is ${shown(region)}; the policy allows ${allowedRegions.join(", ")}.`);
            }
        },
    },
);

/**
 * Resources whose deletion loses data or backups: servers, databases, storage accounts, shares,
 * vaults, database clusters, file storage; and those whose deletion exposes or strands the data: the
 * database firewall (without it the database is open to the internet) and the DOKS cluster that
 * runs the NAS backups.
 */
export const statefulResourceClasses: readonly ResourceClass[] = [
    Server,
    Database,
    StorageAccount,
    FileShare,
    Vault,
    DatabaseCluster,
    DatabaseDb,
    Nfs,
    DatabaseFirewall,
    KubernetesCluster,
];

export const statefulResourcesProtected = backupRule<ResourceValidationPolicy>(
    [backupPolicy.protection.againstDeletion],
    {
        name: "stateful-resources-protected",
        description: `Resources holding data or backups are protected from deletion by Pulumi (resource option protect: true): ${typesOf(statefulResourceClasses)}.`,
        validateResource: (args, reportViolation) => {
            onlyFor(args, statefulResourceClasses);
            const protect = args.opts.protect;
            record(args, args.urn, "options.protect", protect);
            if (protect !== true) {
                reportViolation(
                    `protect is ${shown(protect)}; the policy requires protect: true so a deployment cannot delete it.`,
                );
            }
        },
    },
);

export const platformRules = [azureDataLocationAllowed, digitalOceanDataLocationAllowed, statefulResourcesProtected];
