/**
 * prod and trial (Azure, §2.5.1.1): the `backup`, `azure` and `nasBackup` sections of the stack
 * configuration, and the checks that span them. Read through stacks/config.ts, which owns the keys of
 * every stack and the error report.
 */
import { z } from "zod";
import { allowedAzureLocations, backupPolicy } from "../components/policy";
import { maintenanceHoursOverlappingBackupUtc, utcBackupTimeProblem } from "../components/azure/nasJobSchedule";
import { parseTimeOfDay } from "../components/kubernetes/schedule";
import { digestPinned } from "../components/kubernetes/args";
import { parseRepositoryBase } from "../runner/src/config";
import {
    containerAppsSubnetMaxPrefix,
    storageV2GeoRedundantSkus,
    maximumShareQuotaGiB,
    postgresSkuTiers,
    premiumShareQuotaGiB,
    postgresStorageSizesGB,
    supportedPostgresVersions,
    vaultImmutabilityStates,
    defaultPostgresMaintenanceWindow,
    vaultSoftDeleteStates,
} from "../components/azure/settings";
import {
    cidr,
    cidrContains,
    isCidr,
    named,
    oneOf,
    policyNote,
    prefixLength,
    section,
    show,
    wholeNumber,
} from "./configSchema";

/** Defaults for optional Azure settings (sizes, not policy values). */
export const azureDefaults = Object.freeze({
    postgres: Object.freeze({
        skuName: "Standard_D2ds_v5",
        skuTier: "GeneralPurpose",
        storageSizeGB: 128,
        administratorLogin: "backupadmin",
    }),
    storage: Object.freeze({ shareQuotaGiB: 1024 }),
    vault: Object.freeze({ immutability: "Unlocked", softDelete: "Enabled" }),
    postgresAvailability: Object.freeze({
        highAvailability: "Disabled",
        maintenanceWindow: defaultPostgresMaintenanceWindow,
    }),
});

/** PostgreSQL high availability a stack may choose (ZoneRedundant: a standby in another availability zone). */
export const postgresHighAvailabilityModes = ["Disabled", "ZoneRedundant"] as const;
export type PostgresHighAvailability = (typeof postgresHighAvailabilityModes)[number];

// Azure's naming rules.
const reservedLogins = ["azure_superuser", "azure_pg_admin", "admin", "administrator", "root", "guest", "public"];
const postgresAdministratorLogin = (login: string): boolean =>
    /^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(login) &&
    !login.toLowerCase().startsWith("pg_") &&
    !reservedLogins.includes(login.toLowerCase());
const emailAddress =
    /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

const storageAccountName = named(
    /^[a-z0-9]{3,24}$/,
    "a storage account name: 3–24 lower-case letters and digits (globally unique)",
);
const pinnedImage = (what: string) =>
    named((text) => digestPinned.test(text), `${what} pinned by digest: <registry>/<name>@sha256:<64 hex>`);

/** backup: optional on Azure; if given, the policy's values. */
const backup = section({
    retentionDays: oneOf([backupPolicy.database.retentionDays.value], backupPolicy.database.retentionDays).optional(),
    geoRedundant: oneOf([backupPolicy.database.geoRedundant.value], backupPolicy.database.geoRedundant).optional(),
});

const network = section({
    name: named(
        /^[A-Za-z0-9][-\w.]{0,62}[\w]$/,
        "a virtual network name: 2–64 letters, digits, _ - ., starting with a letter or digit",
    ),
    addressSpace: cidr,
    postgresSubnet: cidr,
    /** The Container Apps environment's own subnet (the NAS backup jobs), delegated to Microsoft.App/environments. */
    containerAppsSubnet: cidr,
})
    .superRefine(postgresSubnetFits)
    .superRefine(containerAppsSubnetFits);

const postgres = section({
    serverName: named(
        /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
        "a server name: 3–63 lower-case letters, digits and hyphens, starting and ending with a letter or digit",
    ),
    version: z.preprocess((v) => (typeof v === "number" ? String(v) : v), oneOf(supportedPostgresVersions)),
    skuName: named(/^Standard_[A-Za-z0-9_]+$/, "a Flexible Server compute size such as Standard_D2ds_v5").default(
        azureDefaults.postgres.skuName,
    ),
    skuTier: oneOf(postgresSkuTiers).default(azureDefaults.postgres.skuTier),
    storageSizeGB: oneOf(postgresStorageSizesGB).default(azureDefaults.postgres.storageSizeGB),
    administratorLogin: named(
        postgresAdministratorLogin,
        "a login of 1–63 letters, digits and _, starting with a letter, not starting with pg_, not azure_superuser, azure_pg_admin, admin, administrator, root, guest or public",
    ).default(azureDefaults.postgres.administratorLogin),
    highAvailability: oneOf(postgresHighAvailabilityModes).default(azureDefaults.postgresAvailability.highAvailability),
    /** Weekly maintenance (UTC): outside the NAS database backups and working hours (§2.13.1), checked with nasBackup. */
    maintenanceWindow: section({ dayOfWeek: wholeNumber(0, 6), startHour: wholeNumber(0, 23) }).default(
        azureDefaults.postgresAvailability.maintenanceWindow,
    ),
}).superRefine(highAvailabilityNeedsTier);

const storage = section({
    accountName: storageAccountName,
    sku: oneOf(storageV2GeoRedundantSkus, backupPolicy.fileShares.geoRedundant),
    shareQuotaGiB: wholeNumber(1, maximumShareQuotaGiB).default(azureDefaults.storage.shareQuotaGiB),
});

const vault = section({
    name: named(
        /^[A-Za-z][A-Za-z0-9-]{1,49}$/,
        "a vault name: 2–50 letters, digits and hyphens, starting with a letter",
    ),
    immutability: oneOf(vaultImmutabilityStates).default(azureDefaults.vault.immutability),
    softDelete: oneOf(vaultSoftDeleteStates).default(azureDefaults.vault.softDelete),
});

/** Who receives the backup alerts (§2.13.2, §2.15). */
const alerts = section({ emailReceivers: alertReceivers() });

/** One REST endpoint of the NAS: https only (the jobs reach it across networks, §2.9). */
const nasEndpoint = section({
    repositoryBase: named(
        isHttpsRepositoryBase,
        "the NAS's restic REST endpoint over https, e.g. rest:https://nas.example.org:8000/prod/ (no credentials in it)",
    ),
    user: named(/^[A-Za-z0-9._@-]{1,64}$/, "a REST user name: 1–64 letters, digits and . _ @ -"),
    password: secretSetting(),
});

/**
 * The drill scratch share (§2.10: restore tests beyond a replica's 8 GiB): its account, its quota
 * (default: the sum of every restore, components/azure/drillScratch.ts) and the init container's image.
 */
const drillScratch = section({
    accountName: storageAccountName,
    quotaGiB: wholeNumber(premiumShareQuotaGiB.min, premiumShareQuotaGiB.max).optional(),
    initImage: pinnedImage("an image with /bin/sh, rm and install (e.g. busybox), running as root,"),
    /** The subnet of the scratch account's private endpoint: inside azure.network.addressSpace, apart (checked below). */
    endpointSubnetPrefix: cidr,
});

/** prod/trial: the NAS backup Container Apps Jobs (§2.5.1.1); policy values come from components/policy.ts. */
const azureNasBackup = section({
    image: pinnedImage("the runner image"),
    dailyBackupTimeUtc: z.custom<string>((value) => utcBackupTimeProblem(value) === undefined, {
        abort: false,
        error: (issue) => utcBackupTimeProblem(issue.input) ?? "is not valid",
    }),
    nas: section({
        appendOnly: nasEndpoint,
        maintenance: nasEndpoint,
        caCertificate: named(
            (text) => text.includes("-----BEGIN CERTIFICATE-----"),
            "the PEM CA certificate of the NAS's https certificate",
        ).optional(),
    }),
    drillScratch,
});

const azure = section({
    location: oneOf(allowedAzureLocations, backupPolicy.regions.azure),
    resourceGroup: named(
        /^[-\w.()]{0,89}[-\w()]$/,
        "a resource group name: 1–90 letters, digits, _ - . ( ), not ending with .",
    ),
    logAnalyticsWorkspace: named(
        /^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$/,
        "a workspace name: 4–63 letters, digits and hyphens, starting and ending with a letter or digit",
    ),
    network,
    postgres,
    storage,
    vault,
    alerts,
});

function isNetwork(value: unknown): value is { addressSpace: string; postgresSubnet: string } {
    if (typeof value !== "object" || value === null) {
        return false;
    }
    const { addressSpace, postgresSubnet } = value as Record<string, unknown>;
    return isCidr(addressSpace) && isCidr(postgresSubnet);
}

/** The database subnet lies inside the virtual network and is large enough for Flexible Server. */
function postgresSubnetFits(value: unknown, context: z.RefinementCtx): void {
    if (!isNetwork(value)) {
        return;
    }
    const { addressSpace, postgresSubnet } = value;
    if (!cidrContains(addressSpace, postgresSubnet)) {
        context.addIssue({
            code: "custom",
            path: ["postgresSubnet"],
            message: `${postgresSubnet} is not inside azure.network.addressSpace ${addressSpace}; allowed: a subnet of ${addressSpace}`,
        });
    } else if (prefixLength(postgresSubnet) > 28) {
        context.addIssue({
            code: "custom",
            path: ["postgresSubnet"],
            message: `${postgresSubnet} is too small; allowed: a prefix of /28 or larger (Flexible Server needs at least /28)`,
        });
    }
}

/** The Container Apps subnet lies inside the virtual network, apart from the database subnet, and is large enough. */
function containerAppsSubnetFits(value: unknown, context: z.RefinementCtx): void {
    if (!isNetwork(value) || !isCidr((value as { containerAppsSubnet?: unknown }).containerAppsSubnet)) {
        return;
    }
    const { addressSpace, postgresSubnet, containerAppsSubnet } = value as Record<string, string>;
    const problem = (message: string) => context.addIssue({ code: "custom", path: ["containerAppsSubnet"], message });
    if (!cidrContains(addressSpace, containerAppsSubnet)) {
        problem(
            `${containerAppsSubnet} is not inside azure.network.addressSpace ${addressSpace}; allowed: a subnet of ${addressSpace}`,
        );
    } else if (
        // Only against a database subnet that is itself inside the network (otherwise that is the one problem).
        cidrContains(addressSpace, postgresSubnet) &&
        (cidrContains(postgresSubnet, containerAppsSubnet) || cidrContains(containerAppsSubnet, postgresSubnet))
    ) {
        problem(
            `${containerAppsSubnet} overlaps azure.network.postgresSubnet ${postgresSubnet}; allowed: a subnet of ${addressSpace} apart from it`,
        );
    } else if (prefixLength(containerAppsSubnet) > containerAppsSubnetMaxPrefix) {
        problem(
            `${containerAppsSubnet} is too small; allowed: a prefix of /${containerAppsSubnetMaxPrefix} or larger (a workload profiles environment needs at least /${containerAppsSubnetMaxPrefix})`,
        );
    }
}

function isHttpsRepositoryBase(text: string): boolean {
    try {
        return parseRepositoryBase(text).protocol === "https:";
    } catch {
        return false;
    }
}

/**
 * A secret setting: `pulumi config set --secret`. The program gets the decrypted text; the YAML file
 * (read directly by tools and tests) holds `{ secure: <ciphertext> }`.
 */
function secretSetting() {
    const expected = "a secret: pulumi config set --secret --path '<key>' <value>";
    const given = (value: unknown): value is string | { secure: string } =>
        (typeof value === "string" && value.length > 0) ||
        (typeof value === "object" && value !== null && typeof (value as { secure?: unknown }).secure === "string");
    return z
        .custom<string | { secure: string }>(given, {
            abort: false,
            error: (issue) =>
                issue.input === undefined ? `is missing; required: ${expected}` : `is not valid; allowed: ${expected}`,
        })
        .transform((value) => (typeof value === "string" ? value : value.secure));
}

/** ZoneRedundant high availability needs a General Purpose or Memory Optimized server. */
function highAvailabilityNeedsTier(
    value: { highAvailability?: unknown; skuTier?: unknown },
    context: z.RefinementCtx,
): void {
    if (value.highAvailability === "ZoneRedundant" && value.skuTier === "Burstable") {
        context.addIssue({
            code: "custom",
            path: ["highAvailability"],
            message:
                "ZoneRedundant is not available for skuTier Burstable; allowed: Disabled, or skuTier GeneralPurpose/MemoryOptimized",
        });
    }
}

/** Start hours (UTC) of Germany's working hours (§2.13.1), in CET or CEST: no maintenance may start then. */
function workingStartHoursUtc(): readonly number[] {
    const { from, to } = backupPolicy.workingHours.value;
    const [fromHour, toHour] = [from, to].map((time) => Number(time.split(":")[0]));
    const hours: number[] = [];
    // CEST is UTC+2, CET UTC+1; a one-hour window starting in [from-2, to-1) UTC touches working hours.
    for (let hour = fromHour - 2; hour < toHour - 1; hour++) hours.push(hour);
    return hours;
}

const weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/**
 * azure.postgres.maintenanceWindow: not while the NAS backup job reads the databases (derived from
 * nasBackup.dailyBackupTimeUtc and the job's bounds) and not in working hours (§2.13.1).
 */
function maintenanceOutsideBackupAndWorkingHours(
    stack: {
        azure: { postgres: { maintenanceWindow: { dayOfWeek: number; startHour: number } } };
        nasBackup: { dailyBackupTimeUtc: string };
    },
    context: z.RefinementCtx,
): void {
    const { dayOfWeek: day, startHour: hour } = stack.azure.postgres.maintenanceWindow;
    const backupTime = stack.nasBackup.dailyBackupTimeUtc;
    const backupHours = maintenanceHoursOverlappingBackupUtc(
        parseTimeOfDay(backupTime, "nasBackup.dailyBackupTimeUtc"),
    );
    const workday = (backupPolicy.workingHours.value.days as readonly string[]).includes(weekdays[day]);
    if (backupHours.includes(hour) || (workday && workingStartHoursUtc().includes(hour))) {
        context.addIssue({
            code: "custom",
            path: ["azure", "postgres", "maintenanceWindow", "startHour"],
            message: `${hour} (UTC, day ${day}) overlaps the NAS database backups (UTC hours ${backupHours.join(", ")}, from nasBackup.dailyBackupTimeUtc ${backupTime}) or working hours; allowed: another hour${policyNote(backupPolicy.workingHours)}`,
        });
    }
}

/** azure.alerts.emailReceivers: at least one valid, distinct e-mail address (§2.13.2, §2.15). */
function alertReceivers() {
    const expected = `a list of at least one e-mail address that receives the backup alerts${policyNote(backupPolicy.rpoHours)}`;
    const address = named(emailAddress, "an e-mail address such as backup-operators@example.org");
    return z
        .custom<string[]>((value) => Array.isArray(value) && value.length > 0, {
            error: (issue) =>
                `${issue.input === undefined ? "is missing" : `${show(issue.input)} is not valid`}; required: ${expected}`,
        })
        .superRefine((receivers, context) => {
            receivers.forEach((receiver, index) => {
                const checked = address.safeParse(receiver);
                // Keyed azure.alerts.emailReceivers.0 (as `pulumi config set --path` writes it).
                checked.error?.issues.forEach((issue) => context.addIssue({ ...issue, path: [String(index)] }));
            });
            if (new Set(receivers).size !== receivers.length) {
                context.addIssue({
                    code: "custom",
                    message: `${show(receivers)} lists an address twice; allowed: distinct addresses`,
                });
            }
        });
}

/** nasBackup.drillScratch.accountName: its own account, not the backed-up shares' (a different kind and SKU). */
function drillScratchAccountApart(
    stack: { azure: { storage: { accountName: string } }; nasBackup: { drillScratch: { accountName: string } } },
    context: z.RefinementCtx,
): void {
    const name = stack.nasBackup.drillScratch.accountName;
    if (name === stack.azure.storage.accountName) {
        context.addIssue({
            code: "custom",
            path: ["nasBackup", "drillScratch", "accountName"],
            message: `${show(name)} is azure.storage.accountName; allowed: another globally unique name (the scratch share needs a premium FileStorage account of its own)`,
        });
    }
}

/** The smallest subnet Azure allows (/29): enough for the one address of the scratch account's private endpoint. */
const smallestSubnetPrefix = 29;

/**
 * nasBackup.drillScratch.endpointSubnetPrefix: a subnet of azure.network.addressSpace, apart from the
 * database's and the Container Apps environment's subnets, at least /29.
 */
function drillScratchEndpointSubnetFits(
    stack: {
        azure?: { network?: { addressSpace?: string; postgresSubnet?: string; containerAppsSubnet?: string } };
        nasBackup?: { drillScratch?: { endpointSubnetPrefix?: string } };
    },
    context: z.RefinementCtx,
): void {
    // Runs on the input even when a section failed: only with every range valid (else that is the problem).
    const { addressSpace, postgresSubnet, containerAppsSubnet } = stack.azure?.network ?? {};
    const prefix = stack.nasBackup?.drillScratch?.endpointSubnetPrefix;
    if (!isCidr(addressSpace) || !isCidr(postgresSubnet) || !isCidr(containerAppsSubnet) || !isCidr(prefix)) return;
    const problem = (message: string) =>
        context.addIssue({ code: "custom", path: ["nasBackup", "drillScratch", "endpointSubnetPrefix"], message });
    const allowed = `allowed: a subnet of azure.network.addressSpace ${addressSpace} apart from the others, /${smallestSubnetPrefix} or larger`;
    // Only against a subnet that is itself inside the address space: one outside is reported for its own key.
    const overlaps = (other: string) =>
        cidrContains(addressSpace, other) && (cidrContains(other, prefix) || cidrContains(prefix, other));
    if (!cidrContains(addressSpace, prefix)) {
        problem(`${prefix} is not inside azure.network.addressSpace ${addressSpace}; ${allowed}`);
    } else if (overlaps(postgresSubnet)) {
        problem(`${prefix} overlaps azure.network.postgresSubnet ${postgresSubnet}; ${allowed}`);
    } else if (overlaps(containerAppsSubnet)) {
        problem(`${prefix} overlaps azure.network.containerAppsSubnet ${containerAppsSubnet}; ${allowed}`);
    } else if (prefixLength(prefix) > smallestSubnetPrefix) {
        problem(`${prefix} is too small; ${allowed}`);
    }
}

/** The sections only prod and trial have, and the checks that span them. */
export const azureSections = { backup: backup.optional(), azure, nasBackup: azureNasBackup };
export { maintenanceOutsideBackupAndWorkingHours, drillScratchAccountApart, drillScratchEndpointSubnetFits };
