/**
 * A wrong configuration value stops the program before any resource is registered, with one message
 * naming the key, the value, what is allowed and the policy clause.
 */
import { describe, expect, it } from "vitest";
import { allowedAzureLocations, allowedDigitalOceanRegions, backupPolicy, Requirement } from "../../components/policy";
import { storageV2GeoRedundantSkus, supportedPostgresVersions } from "../../components/azure/settings";
import { allowedUtcBackupTimes } from "../../components/azure/nasJobSchedule";
import { dataClassifications } from "../../stacks/config";
import { runStackOffline } from "../../stacks/offline";
import { ConfigPath, configWith } from "../support/stackConfig";

/** How the message cites the policy. */
const note = (requirement: Requirement<unknown>): string =>
    ` (Data Backup Policy ${backupPolicy.version.value} ${requirement.clause}: ${requirement.text})`;

const header = (stack: string): string =>
    `Invalid configuration of stack "${stack}" (Pulumi.${stack}.yaml, namespace "backup-policy"):`;

type Case = readonly [
    title: string,
    stack: string,
    changes: readonly [ConfigPath, unknown][],
    lines: readonly string[],
];

const cases: readonly Case[] = [
    [
        "a region other than the policy's",
        "prod",
        [[["backup-policy:azure", "location"], "westus"]],
        [
            `azure.location: westus is not allowed; allowed: ${allowedAzureLocations.join(", ")}${note(backupPolicy.regions.azure)}`,
        ],
    ],
    [
        "a shorter database retention",
        "prod",
        [[["backup-policy:backup", "retentionDays"], 7]],
        [
            `backup.retentionDays: 7 is not allowed; allowed: ${backupPolicy.database.retentionDays.value}${note(backupPolicy.database.retentionDays)}`,
        ],
    ],
    [
        "database backups without geo-redundancy",
        "trial",
        [[["backup-policy:backup", "geoRedundant"], false]],
        [`backup.geoRedundant: false is not allowed; allowed: true${note(backupPolicy.database.geoRedundant)}`],
    ],
    [
        "a storage SKU that is not geo-redundant",
        "prod",
        [[["backup-policy:azure", "storage", "sku"], "Standard_LRS"]],
        [
            `azure.storage.sku: Standard_LRS is not allowed; allowed: ${storageV2GeoRedundantSkus.join(", ")}${note(backupPolicy.fileShares.geoRedundant)}`,
        ],
    ],
    [
        "an old PostgreSQL major version",
        "prod",
        [[["backup-policy:azure", "postgres", "version"], "15"]],
        [`azure.postgres.version: 15 is not allowed; allowed: ${supportedPostgresVersions.join(", ")}`],
    ],
    [
        "no database for a side service",
        "prod",
        [[["backup-policy:databases", "auth"], undefined]],
        [
            `databases.auth: is missing; required: a database name for each of main, ${backupPolicy.sideServices.value.join(", ")}${note(backupPolicy.sideServices)}`,
        ],
    ],
    [
        "no database for the main service",
        "trial",
        [[["backup-policy:databases", "main"], undefined]],
        [
            `databases.main: is missing; required: a database name for each of main, ${backupPolicy.sideServices.value.join(", ")}${note(backupPolicy.sideServices)}`,
        ],
    ],
    [
        "two services sharing one database",
        "prod",
        [[["backup-policy:databases", "messaging"], "auth"]],
        [
            `databases.messaging: auth is already the database of auth; each service needs its own database${note(backupPolicy.sideServices)}`,
        ],
    ],
    [
        "a missing share",
        "prod",
        [[["backup-policy:shares"], ["documents"]]],
        [
            `shares: ["documents"] lacks images; required: ${backupPolicy.fileResources.value.join(", ")}${note(backupPolicy.fileResources)}`,
        ],
    ],
    [
        "an unknown data classification",
        "prod",
        [[["backup-policy:dataClassification"], "secret"]],
        [`dataClassification: secret is not allowed; allowed: ${dataClassifications.join(", ")}`],
    ],
    [
        "vault immutability switched off",
        "prod",
        [[["backup-policy:azure", "vault", "immutability"], "Disabled"]],
        ["azure.vault.immutability: Disabled is not allowed; allowed: Unlocked, Locked"],
    ],
    [
        "production on the staging platform",
        "prod",
        [[["backup-policy:platform"], "digitalocean"]],
        [
            `platform: digitalocean is not allowed for environment prod; allowed: azure${note(backupPolicy.environments)}`,
        ],
    ],
    [
        "staging outside FRA1",
        "staging",
        [[["backup-policy:digitalocean", "region"], "nyc3"]],
        [
            `digitalocean.region: nyc3 is not allowed; allowed: ${allowedDigitalOceanRegions.join(", ")}${note(backupPolicy.regions.digitalocean)}`,
        ],
    ],
    [
        "a mistyped key",
        "prod",
        [[["backup-policy:azure", "postgres", "verison"], "17"]],
        [
            "azure.postgres.verison: is not a known setting; known settings of azure.postgres: serverName, version, skuName, skuTier, storageSizeGB, administratorLogin, highAvailability, maintenanceWindow",
        ],
    ],
    [
        "a storage account name Azure would reject",
        "prod",
        [[["backup-policy:azure", "storage", "accountName"], "St_Prod"]],
        [
            "azure.storage.accountName: St_Prod is not valid; allowed: a storage account name: 3–24 lower-case letters and digits (globally unique)",
        ],
    ],
    [
        "a database subnet outside the virtual network",
        "prod",
        [[["backup-policy:azure", "network", "postgresSubnet"], "10.99.1.0/24"]],
        [
            "azure.network.postgresSubnet: 10.99.1.0/24 is not inside azure.network.addressSpace 10.40.0.0/16; allowed: a subnet of 10.40.0.0/16",
        ],
    ],
    [
        "no one to receive the backup alerts",
        "prod",
        [[["backup-policy:azure", "alerts", "emailReceivers"], []]],
        [
            `azure.alerts.emailReceivers: [] is not valid; required: a list of at least one e-mail address that receives the backup alerts${note(backupPolicy.rpoHours)}`,
        ],
    ],
    [
        "a missing alerts section",
        "trial",
        [[["backup-policy:azure", "alerts"], undefined]],
        ["azure.alerts: is missing; required: an object with emailReceivers"],
    ],
    [
        "an alert receiver that is no e-mail address",
        "prod",
        [[["backup-policy:azure", "alerts", "emailReceivers"], ["backup team"]]],
        [
            'azure.alerts.emailReceivers.0: "backup team" is not valid; allowed: an e-mail address such as backup-operators@example.org',
        ],
    ],
    [
        "a vault soft-delete state that keeps nothing",
        "trial",
        [[["backup-policy:azure", "vault", "softDelete"], "Disabled"]],
        ["azure.vault.softDelete: Disabled is not allowed; allowed: Enabled, AlwaysON"],
    ],
    [
        "zone-redundant high availability on a burstable server",
        "prod",
        [[["backup-policy:azure", "postgres", "skuTier"], "Burstable"]],
        [
            "azure.postgres.highAvailability: ZoneRedundant is not available for skuTier Burstable; allowed: Disabled, or skuTier GeneralPurpose/MemoryOptimized",
        ],
    ],
    [
        "a maintenance window during the nightly backups",
        "prod",
        [[["backup-policy:azure", "postgres", "maintenanceWindow"], { dayOfWeek: 0, startHour: 1 }]],
        [
            `azure.postgres.maintenanceWindow.startHour: 1 (UTC, day 0) overlaps the NAS database backups (UTC hours 23, 0, 1, 2, 3, from nasBackup.dailyBackupTimeUtc 23:30) or working hours; allowed: another hour${note(backupPolicy.workingHours)}`,
        ],
    ],
    [
        "a maintenance window that the default allows, once the NAS backup moved into it (derived from the backup time)",
        "prod",
        [[["backup-policy:nasBackup", "dailyBackupTimeUtc"], "03:00"]],
        [
            `azure.postgres.maintenanceWindow.startHour: 5 (UTC, day 0) overlaps the NAS database backups (UTC hours 3, 4, 5, 6, from nasBackup.dailyBackupTimeUtc 03:00) or working hours; allowed: another hour${note(backupPolicy.workingHours)}`,
        ],
    ],
    [
        "a maintenance window during working hours",
        "trial",
        [[["backup-policy:azure", "postgres", "maintenanceWindow"], { dayOfWeek: 3, startHour: 10 }]],
        [
            `azure.postgres.maintenanceWindow.startHour: 10 (UTC, day 3) overlaps the NAS database backups (UTC hours 23, 0, 1, 2, 3, from nasBackup.dailyBackupTimeUtc 23:30) or working hours; allowed: another hour${note(backupPolicy.workingHours)}`,
        ],
    ],
    [
        "several wrong values at once",
        "prod",
        [
            [["backup-policy:azure", "location"], "westeurope"],
            [["backup-policy:backup", "retentionDays"], 35],
        ],
        [
            `backup.retentionDays: 35 is not allowed; allowed: ${backupPolicy.database.retentionDays.value}${note(backupPolicy.database.retentionDays)}`,
            `azure.location: westeurope is not allowed; allowed: ${allowedAzureLocations.join(", ")}${note(backupPolicy.regions.azure)}`,
        ],
    ],
    [
        "a NAS backup time (UTC) that falls twice or not at all in a Berlin day",
        "prod",
        [[["backup-policy:nasBackup", "dailyBackupTimeUtc"], "22:30"]],
        [
            `nasBackup.dailyBackupTimeUtc: 22:30 UTC falls twice or not at all in a Europe/Berlin day on the DST changes; allowed: a time "HH:MM" in UTC within ${allowedUtcBackupTimes()} (falls exactly once in every Europe/Berlin day, summer and winter)`,
        ],
    ],
    [
        "a NAS endpoint over plain http and a missing NAS password",
        "trial",
        [
            [
                ["backup-policy:nasBackup", "nas", "appendOnly", "repositoryBase"],
                "rest:http://nas.example.org:8000/trial/",
            ],
            [["backup-policy:nasBackup", "nas", "maintenance", "password"], undefined],
        ],
        [
            "nasBackup.nas.appendOnly.repositoryBase: rest:http://nas.example.org:8000/trial/ is not valid; allowed: the NAS's restic REST endpoint over https, e.g. rest:https://nas.example.org:8000/prod/ (no credentials in it)",
            "nasBackup.nas.maintenance.password: is missing; required: a secret: pulumi config set --secret --path '<key>' <value>",
        ],
    ],
    [
        "a Container Apps subnet overlapping the database subnet",
        "prod",
        [[["backup-policy:azure", "network", "containerAppsSubnet"], "10.40.0.0/23"]],
        [
            "azure.network.containerAppsSubnet: 10.40.0.0/23 overlaps azure.network.postgresSubnet 10.40.1.0/24; allowed: a subnet of 10.40.0.0/16 apart from it",
        ],
    ],
    [
        "a Container Apps subnet too small for a workload profiles environment",
        "trial",
        [[["backup-policy:azure", "network", "containerAppsSubnet"], "10.41.2.0/28"]],
        [
            "azure.network.containerAppsSubnet: 10.41.2.0/28 is too small; allowed: a prefix of /27 or larger (a workload profiles environment needs at least /27)",
        ],
    ],
    [
        "a drill scratch share below the premium minimum, an unpinned init image and no scratch account",
        "prod",
        [
            [["backup-policy:nasBackup", "drillScratch", "quotaGiB"], 64],
            [["backup-policy:nasBackup", "drillScratch", "initImage"], "busybox:latest"],
            [["backup-policy:nasBackup", "drillScratch", "accountName"], undefined],
        ],
        [
            "nasBackup.drillScratch.accountName: is missing; required: a storage account name: 3–24 lower-case letters and digits (globally unique)",
            "nasBackup.drillScratch.quotaGiB: 64 is not valid; allowed: a whole number from 100 to 102400",
            "nasBackup.drillScratch.initImage: busybox:latest is not valid; allowed: an image with /bin/sh, rm and install (e.g. busybox), running as root, pinned by digest: <registry>/<name>@sha256:<64 hex>",
        ],
    ],
    [
        "a drill scratch account that is the backed-up shares' account",
        "trial",
        [[["backup-policy:nasBackup", "drillScratch", "accountName"], "stitmautomotivetrial"]],
        [
            "nasBackup.drillScratch.accountName: stitmautomotivetrial is azure.storage.accountName; allowed: another globally unique name (the scratch share needs a premium FileStorage account of its own)",
        ],
    ],
    [
        "no drill scratch endpoint subnet",
        "prod",
        [[["backup-policy:nasBackup", "drillScratch", "endpointSubnetPrefix"], undefined]],
        [
            "nasBackup.drillScratch.endpointSubnetPrefix: is missing; required: an IPv4 address range in CIDR notation such as 10.20.0.0/16",
        ],
    ],
    [
        "a drill scratch endpoint subnet that is no CIDR range",
        "trial",
        [[["backup-policy:nasBackup", "drillScratch", "endpointSubnetPrefix"], "10.41.3.0"]],
        [
            "nasBackup.drillScratch.endpointSubnetPrefix: 10.41.3.0 is not valid; allowed: an IPv4 address range in CIDR notation such as 10.20.0.0/16",
        ],
    ],
    [
        "a drill scratch endpoint subnet outside the virtual network",
        "prod",
        [[["backup-policy:nasBackup", "drillScratch", "endpointSubnetPrefix"], "10.41.3.0/28"]],
        [
            "nasBackup.drillScratch.endpointSubnetPrefix: 10.41.3.0/28 is not inside azure.network.addressSpace 10.40.0.0/16; allowed: a subnet of azure.network.addressSpace 10.40.0.0/16 apart from the others, /29 or larger",
        ],
    ],
    [
        "a drill scratch endpoint subnet overlapping the Container Apps subnet",
        "trial",
        [[["backup-policy:nasBackup", "drillScratch", "endpointSubnetPrefix"], "10.41.2.16/28"]],
        [
            "nasBackup.drillScratch.endpointSubnetPrefix: 10.41.2.16/28 overlaps azure.network.containerAppsSubnet 10.41.2.0/24; allowed: a subnet of azure.network.addressSpace 10.41.0.0/16 apart from the others, /29 or larger",
        ],
    ],
    [
        "a drill scratch endpoint subnet overlapping the database subnet",
        "prod",
        [[["backup-policy:nasBackup", "drillScratch", "endpointSubnetPrefix"], "10.40.0.0/23"]],
        [
            "nasBackup.drillScratch.endpointSubnetPrefix: 10.40.0.0/23 overlaps azure.network.postgresSubnet 10.40.1.0/24; allowed: a subnet of azure.network.addressSpace 10.40.0.0/16 apart from the others, /29 or larger",
        ],
    ],
    [
        "a drill scratch endpoint subnet smaller than Azure's smallest subnet",
        "trial",
        [[["backup-policy:nasBackup", "drillScratch", "endpointSubnetPrefix"], "10.41.3.0/30"]],
        [
            "nasBackup.drillScratch.endpointSubnetPrefix: 10.41.3.0/30 is too small; allowed: a subnet of azure.network.addressSpace 10.41.0.0/16 apart from the others, /29 or larger",
        ],
    ],
    [
        "no drill scratch section",
        "trial",
        [[["backup-policy:nasBackup", "drillScratch"], undefined]],
        [
            "nasBackup.drillScratch: is missing; required: an object with accountName, quotaGiB, initImage, endpointSubnetPrefix",
        ],
    ],
];

describe("invalid stack configuration", () => {
    it.each(cases)("rejects %s, registering nothing", async (_title, stack, changes, lines) => {
        const run = await runStackOffline({ stack, config: configWith(stack, ...changes) });
        expect(run.error?.name).toBe("ConfigError");
        expect(run.error?.message).toBe([header(stack), ...lines.map((line) => `  - ${line}`)].join("\n"));
        expect(run.resources).toEqual([]);
        expect(run.outputs).toEqual({});
    });

    it("accepts the unchanged files (the cases above fail because of their change)", async () => {
        for (const stack of ["prod", "trial", "staging"]) {
            const run = await runStackOffline({ stack, config: configWith(stack) });
            expect(run.error, stack).toBeUndefined();
        }
    });
});
