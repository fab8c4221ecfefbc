/**
 * The stack configuration: read from the `backup-policy` namespace of Pulumi.<stack>.yaml, checked
 * completely before any resource is registered, and handed to the program as one typed object.
 *
 * The schema below is the one place that says which keys exist and what each may hold; the types are
 * inferred from it. A wrong value never reaches Azure: every problem is reported at once, each naming
 * the key as it is written in the YAML file (`azure.location`), the value, what is allowed and, where
 * the value comes from the Data Backup Policy, the clause that demands it. A new key is one line in
 * its section (building blocks in ./configSchema.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { allowedAzureLocations, backupPolicy } from "../components/policy";
import { readDigitalOceanStaging } from "./digitaloceanConfig";
import { maintenanceHoursOverlappingBackupUtc, utcBackupTimeProblem } from "../components/azure/nasJobSchedule";
import { parseTimeOfDay } from "../components/kubernetes/schedule";
import { digestPinned } from "../components/kubernetes/args";
import { parseRepositoryBase } from "../runner/src/config";
import {
    containerAppsSubnetMaxPrefix,
    storageV2GeoRedundantSkus,
    maximumShareQuotaGiB,
    postgresSkuTiers,
    postgresStorageSizesGB,
    supportedPostgresVersions,
    vaultImmutabilityStates,
    defaultPostgresMaintenanceWindow,
    vaultSoftDeleteStates,
} from "../components/azure/settings";
import {
    cidr,
    cidrContains,
    ConfigProblem,
    configProblems,
    isCidr,
    named,
    oneOf,
    policyNote,
    prefixLength,
    section,
    show,
    wholeNumber,
} from "./configSchema";

export type { ConfigProblem } from "./configSchema";

/** The Pulumi config namespace of this project (Pulumi.yaml `name`). */
export const configNamespace = "backup-policy";

/**
 * Data classifications a stack may declare (tagged on every resource). §2.4 defers the categories to
 * the company's classification policy, which is not part of this repository's documents; these are
 * the usual ISO 27001 levels. Adjust here when the classification policy says otherwise.
 */
export const dataClassifications = ["public", "internal", "confidential", "strictly-confidential"] as const;
export type DataClassification = (typeof dataClassifications)[number];

/** Key of the main service's database in `databases` (side services use their §2.14 names). */
export const mainService = "main";

const environments = backupPolicy.environments;
export type Environment = keyof typeof environments.value;
export type Platform = (typeof environments.value)[Environment];
const environmentNames = Object.keys(environments.value) as Environment[];
const platforms = [...new Set(Object.values(environments.value))];

/** The database of one service (the main service or a side service, §2.14). */
export interface ServiceDatabase {
    readonly service: string;
    readonly name: string;
}

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

// Azure and PostgreSQL naming rules.
const reservedDatabases = ["postgres", "azure_maintenance", "azure_sys", "template0", "template1"];
const reservedLogins = ["azure_superuser", "azure_pg_admin", "admin", "administrator", "root", "guest", "public"];
const postgresDatabaseName = (name: string): boolean =>
    /^[a-z_][a-z0-9_]{0,62}$/.test(name) && !reservedDatabases.includes(name);
const postgresAdministratorLogin = (login: string): boolean =>
    /^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(login) &&
    !login.toLowerCase().startsWith("pg_") &&
    !reservedLogins.includes(login.toLowerCase());
const shareNameRule = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const emailAddress =
    /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** databases: one database per service, main first, then the side services (§2.14). */
const requiredServices = [mainService, ...backupPolicy.sideServices.value];
const databasesRequired = `a database name for each of ${requiredServices.join(", ")}${policyNote(backupPolicy.sideServices)}`;
const databaseName = named(
    postgresDatabaseName,
    "a PostgreSQL database name: lower-case letters, digits and _, starting with a letter or _, at most 63 characters, not a system database",
    `required: ${databasesRequired}`,
);
const databases = section(
    Object.fromEntries(requiredServices.map((service) => [service, databaseName])),
    databasesRequired,
)
    .catchall(databaseName)
    .superRefine(eachServiceItsOwnDatabase)
    .transform((record): ServiceDatabase[] => Object.entries(record).map(([service, name]) => ({ service, name })));

/** shares: the file shares; at least the policy's Documents & Images (§2.5.1.1). */
const requiredShares = backupPolicy.fileResources;
const shareName = named(
    shareNameRule,
    "a file share name: 3–63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit",
);
const sharesExpected = `a list of file share names containing ${requiredShares.value.join(", ")}`;
const shares = z
    .array(shareName, {
        error: (issue) =>
            issue.input === undefined
                ? `is missing; required: ${sharesExpected}${policyNote(requiredShares)}`
                : `${show(issue.input)} is not valid; expected ${sharesExpected}`,
    })
    .superRefine(eachShareOnceAndTheRequiredOnes);

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
    accountName: named(
        /^[a-z0-9]{3,24}$/,
        "a storage account name: 3–24 lower-case letters and digits (globally unique)",
    ),
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

/** prod/trial: the NAS backup Container Apps Jobs (§2.5.1.1); policy values come from components/policy.ts. */
const azureNasBackup = section({
    image: named(
        (text) => digestPinned.test(text),
        "the runner image pinned by digest: <registry>/<name>@sha256:<64 hex>",
    ),
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

/**
 * staging's `digitalocean` and `nasBackup` sections: checked by stacks/digitaloceanConfig.ts (region,
 * names, sizes, versions, the NAS, and the maintenance window against the NAS runs), each problem
 * reported under its key.
 */
function stagingSettings(value: { digitalocean?: unknown; nasBackup?: unknown }, context: z.RefinementCtx) {
    const staging = readDigitalOceanStaging(value, (key, _value, message) =>
        context.addIssue({ code: "custom", path: key.split("."), message }),
    );
    return staging ?? z.NEVER;
}

/** The platform of the stack's environment (§2.5.1.1, §2.5.1.2). */
function platformOf(environment: unknown) {
    const required = environmentNames.includes(environment as Environment)
        ? environments.value[environment as Environment]
        : undefined;
    return oneOf(platforms, environments).refine(
        (platform) => required === undefined || platform === required || !platforms.includes(platform),
        {
            error: (issue) =>
                `${show(issue.input)} is not allowed for environment ${String(environment)}; allowed: ${required}${policyNote(environments)}`,
        },
    );
}

/** Keys of every stack, whatever its platform. */
const common = {
    platform: oneOf(platforms, environments),
    environment: oneOf(environmentNames, environments),
    dataClassification: oneOf(dataClassifications),
    databases,
    shares,
};

const stackSchemas = {
    /** prod and trial: Azure (§2.5.1.1). */
    azure: section({
        ...common,
        platform: z.literal("azure"),
        backup: backup.optional(),
        azure,
        nasBackup: azureNasBackup,
    }).superRefine(maintenanceOutsideBackupAndWorkingHours),
    /** staging: DigitalOcean (§2.5.1.2). */
    digitalocean: section({
        ...common,
        platform: z.literal("digitalocean"),
        digitalocean: z.unknown(),
        nasBackup: z.unknown(),
    }).transform((value, context) => ({ ...value, ...stagingSettings(value, context) })),
};

export type AzureStackConfig = { readonly stack: string } & Readonly<z.output<typeof stackSchemas.azure>>;
export type DigitalOceanStackConfig = { readonly stack: string } & Readonly<z.output<typeof stackSchemas.digitalocean>>;
export type StackConfig = AzureStackConfig | DigitalOceanStackConfig;
export type AzureConfig = AzureStackConfig["azure"];

/** Thrown before any resource is registered when the configuration breaks a rule. */
export class ConfigError extends Error {
    constructor(
        public readonly stack: string,
        public readonly problems: readonly ConfigProblem[],
    ) {
        super(
            `Invalid configuration of stack "${stack}" (Pulumi.${stack}.yaml, namespace "${configNamespace}"):\n` +
                problems.map((problem) => `  - ${problem.key}: ${problem.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/**
 * Reads the `backup-policy:*` settings of the running stack and validates them.
 * Throws a ConfigError listing every problem.
 */
export function readStackConfig(): StackConfig {
    const prefix = `${configNamespace}:`;
    const raw: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) {
            raw[key.slice(prefix.length)] = parseConfigText(text);
        }
    }
    return validateStackConfig(raw, pulumi.getStack());
}

/** The CLI hands structured values (objects, lists, numbers) over as JSON, plain strings as they are. */
function parseConfigText(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/**
 * Validates the settings of one stack (keys without the namespace). Throws a ConfigError. Without a
 * valid platform only the keys every stack has are checked (which others belong is then unknown).
 */
export function validateStackConfig(raw: Readonly<Record<string, unknown>>, stack: string): StackConfig {
    const platform = platformOf(raw.environment).safeParse(raw.platform);
    if (!platform.success) {
        const commonOnly = z.looseObject({ ...common, platform: platformOf(raw.environment) }).safeParse(raw);
        throw new ConfigError(stack, configProblems(commonOnly.error ?? platform.error, raw));
    }
    const parsed = stackSchemas[platform.data].safeParse(raw);
    if (!parsed.success) {
        throw new ConfigError(stack, configProblems(parsed.error, raw));
    }
    return { stack, ...parsed.data };
}

function eachServiceItsOwnDatabase(record: Record<string, unknown>, context: z.RefinementCtx): void {
    const owners = new Map<unknown, string>();
    for (const [service, name] of Object.entries(record)) {
        const owner = owners.get(name);
        if (owner !== undefined && typeof name === "string" && postgresDatabaseName(name)) {
            context.addIssue({
                code: "custom",
                path: [service],
                message: `${show(name)} is already the database of ${owner}; each service needs its own database${policyNote(backupPolicy.sideServices)}`,
            });
        } else if (owner === undefined) {
            owners.set(name, service);
        }
    }
}

function eachShareOnceAndTheRequiredOnes(value: readonly unknown[], context: z.RefinementCtx): void {
    value.forEach((share, index) => {
        if (typeof share === "string" && shareNameRule.test(share) && value.indexOf(share) < index) {
            context.addIssue({
                code: "custom",
                path: [index],
                message: `${show(share)} is listed twice; each share once`,
            });
        }
    });
    const missing = requiredShares.value.filter((name) => !value.includes(name));
    if (missing.length > 0) {
        context.addIssue({
            code: "custom",
            message: `${show(value)} lacks ${missing.join(", ")}; required: ${requiredShares.value.join(", ")}${policyNote(requiredShares)}`,
        });
    }
}

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
