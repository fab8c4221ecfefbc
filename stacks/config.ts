/**
 * The stack configuration: read from the `backup-policy` namespace of Pulumi.<stack>.yaml, checked
 * completely before any resource is registered, and handed to the program as one typed object.
 *
 * A wrong value never reaches Azure: every problem is reported at once, each naming the key as it is
 * written in the YAML file (`azure.location`), the value, what is allowed and, where the value comes
 * from the Data Backup Policy, the clause that demands it.
 */
import * as pulumi from "@pulumi/pulumi";
import { allowedAzureLocations, backupPolicy, Requirement } from "../components/policy";
import { DigitalOceanSettings, NasBackupSettings, readDigitalOceanStaging } from "./digitaloceanConfig";
import {
    storageV2GeoRedundantSkus,
    maximumShareQuotaGiB,
    postgresSkuTiers,
    postgresStorageSizesGB,
    supportedPostgresVersions,
    VaultImmutability,
    vaultImmutabilityStates,
} from "../components/azure/settings";

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

export type Environment = keyof typeof backupPolicy.environments.value;
export type Platform = (typeof backupPolicy.environments.value)[Environment];

/** The database of one service (the main service or a side service, §2.14). */
export interface ServiceDatabase {
    readonly service: string;
    readonly name: string;
}

interface CommonStackConfig {
    readonly stack: string;
    readonly environment: Environment;
    readonly dataClassification: DataClassification;
    /** The main service first, then the side services (§2.14), then any further ones. */
    readonly databases: readonly ServiceDatabase[];
    /** File shares / file resources; contains at least the policy's Documents & Images. */
    readonly shares: readonly string[];
}

export interface AzureConfig {
    readonly location: string;
    readonly resourceGroup: string;
    readonly logAnalyticsWorkspace: string;
    readonly network: { readonly name: string; readonly addressSpace: string; readonly postgresSubnet: string };
    readonly postgres: {
        readonly serverName: string;
        readonly version: string;
        readonly skuName: string;
        readonly skuTier: string;
        readonly storageSizeGB: number;
        readonly administratorLogin: string;
    };
    readonly storage: { readonly accountName: string; readonly sku: string; readonly shareQuotaGiB: number };
    readonly vault: { readonly name: string; readonly immutability: VaultImmutability };
}

/** prod and trial: Azure (§2.5.1.1). */
export interface AzureStackConfig extends CommonStackConfig {
    readonly platform: "azure";
    readonly azure: AzureConfig;
}

/** staging: DigitalOcean (§2.5.1.2). */
export interface DigitalOceanStackConfig extends CommonStackConfig {
    readonly platform: "digitalocean";
    readonly digitalocean: DigitalOceanSettings;
    readonly nasBackup: NasBackupSettings;
}

export type StackConfig = AzureStackConfig | DigitalOceanStackConfig;

/** Defaults for optional Azure settings (sizes, not policy values). */
export const azureDefaults = Object.freeze({
    postgres: Object.freeze({
        skuName: "Standard_D2ds_v5",
        skuTier: "GeneralPurpose",
        storageSizeGB: 128,
        administratorLogin: "backupadmin",
    }),
    storage: Object.freeze({ shareQuotaGiB: 1024 }),
    vault: Object.freeze({ immutability: "Unlocked" as VaultImmutability }),
});

/** One wrong or missing setting. */
export interface ConfigProblem {
    /** The key as written in Pulumi.<stack>.yaml below the namespace, e.g. "azure.location". */
    readonly key: string;
    /** The value found (undefined when missing). */
    readonly value: unknown;
    /** What is wrong and what is allowed, e.g. `westus is not allowed; allowed: northeurope (...)`. */
    readonly message: string;
}

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

/** Validates the settings of one stack (keys without the namespace). Throws a ConfigError. */
export function validateStackConfig(raw: Readonly<Record<string, unknown>>, stack: string): StackConfig {
    const check = new Checker();
    const environments = backupPolicy.environments;
    const platforms = [...new Set(Object.values(environments.value))];

    const environment = check.oneOf("environment", raw.environment, Object.keys(environments.value), environments) as
        Environment | undefined;
    let platform = check.oneOf("platform", raw.platform, platforms, environments) as Platform | undefined;
    if (environment !== undefined && platform !== undefined && environments.value[environment] !== platform) {
        check.report(
            "platform",
            platform,
            `${show(platform)} is not allowed for environment ${environment}; allowed: ${environments.value[environment]}${policyNote(environments)}`,
        );
        platform = undefined;
    }
    const dataClassification = check.oneOf("dataClassification", raw.dataClassification, dataClassifications) as
        DataClassification | undefined;
    const databases = readDatabases(check, raw.databases);
    const shares = readShares(check, raw.shares);

    const commonKeys = ["platform", "environment", "dataClassification", "databases", "shares"];
    let azureConfig: AzureConfig | undefined;
    let staging: { digitalocean: DigitalOceanSettings; nasBackup: NasBackupSettings } | undefined;
    if (platform === "azure") {
        check.knownKeys("", raw, [...commonKeys, "azure", "backup"]);
        readBackup(check, raw.backup);
        azureConfig = readAzure(check, raw.azure);
    } else if (platform === "digitalocean") {
        check.knownKeys("", raw, [...commonKeys, "digitalocean", "nasBackup"]);
        staging = readDigitalOceanStaging(raw, (key, value, message) => check.report(key, value, message));
    }

    if (
        check.problems.length > 0 ||
        environment === undefined ||
        platform === undefined ||
        dataClassification === undefined
    ) {
        throw new ConfigError(stack, check.problems);
    }
    const common = { stack, environment, dataClassification, databases, shares };
    if (platform === "azure") {
        return { ...common, platform, azure: azureConfig as AzureConfig };
    }
    return {
        ...common,
        platform,
        ...(staging as { digitalocean: DigitalOceanSettings; nasBackup: NasBackupSettings }),
    };
}

function readDatabases(check: Checker, value: unknown): ServiceDatabase[] {
    const sideServices = backupPolicy.sideServices;
    const required = [mainService, ...sideServices.value];
    const expectation = `a database name for each of ${required.join(", ")}`;
    const section = check.section("databases", value, undefined, true, `${expectation}${policyNote(sideServices)}`);
    if (!section) {
        return [];
    }
    const databases: ServiceDatabase[] = [];
    const owners = new Map<string, string>();
    for (const service of required) {
        if (section[service] === undefined) {
            check.report(
                `databases.${service}`,
                undefined,
                `is missing; required: ${expectation}${policyNote(sideServices)}`,
            );
        }
    }
    const ordered = [
        ...required.filter((service) => section[service] !== undefined),
        ...Object.keys(section).filter((service) => !required.includes(service)),
    ];
    for (const service of ordered) {
        const key = `databases.${service}`;
        const name = check.matches(
            key,
            section[service],
            postgresDatabaseName,
            "a PostgreSQL database name: lower-case letters, digits and _, starting with a letter or _, at most 63 characters, not a system database",
        );
        if (name === undefined) {
            continue;
        }
        const owner = owners.get(name);
        if (owner !== undefined) {
            check.report(
                key,
                name,
                `${show(name)} is already the database of ${owner}; each service needs its own database${policyNote(sideServices)}`,
            );
            continue;
        }
        owners.set(name, service);
        databases.push({ service, name });
    }
    return databases;
}

function readShares(check: Checker, value: unknown): string[] {
    const required = backupPolicy.fileResources;
    const expectation = `a list of file share names containing ${required.value.join(", ")}`;
    if (value === undefined) {
        check.report("shares", undefined, `is missing; required: ${expectation}${policyNote(required)}`);
        return [];
    }
    if (!Array.isArray(value)) {
        check.report("shares", value, `${show(value)} is not valid; expected ${expectation}`);
        return [];
    }
    const shares: string[] = [];
    value.forEach((share: unknown, index) => {
        const name = check.matches(
            `shares[${index}]`,
            share,
            shareName,
            "a file share name: 3–63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit",
        );
        if (name !== undefined && shares.includes(name)) {
            check.report(`shares[${index}]`, name, `${show(name)} is listed twice; each share once`);
        } else if (name !== undefined) {
            shares.push(name);
        }
    });
    const missing = required.value.filter((name) => !value.includes(name));
    if (missing.length > 0) {
        check.report(
            "shares",
            value,
            `${show(value)} lacks ${missing.join(", ")}; required: ${required.value.join(", ")}${policyNote(required)}`,
        );
    }
    return shares;
}

function readBackup(check: Checker, value: unknown): void {
    const section = check.section("backup", value, ["retentionDays", "geoRedundant"], false);
    if (!section) {
        return;
    }
    if (section.retentionDays !== undefined) {
        check.oneOf(
            "backup.retentionDays",
            section.retentionDays,
            [backupPolicy.database.retentionDays.value],
            backupPolicy.database.retentionDays,
        );
    }
    if (section.geoRedundant !== undefined) {
        check.oneOf(
            "backup.geoRedundant",
            section.geoRedundant,
            [backupPolicy.database.geoRedundant.value],
            backupPolicy.database.geoRedundant,
        );
    }
}

function readAzure(check: Checker, value: unknown): AzureConfig | undefined {
    const azure = check.section(
        "azure",
        value,
        ["location", "resourceGroup", "logAnalyticsWorkspace", "network", "postgres", "storage", "vault"],
        true,
    );
    if (!azure) {
        return undefined;
    }
    const location = check.oneOf("azure.location", azure.location, allowedAzureLocations, backupPolicy.regions.azure);
    const resourceGroup = check.matches(
        "azure.resourceGroup",
        azure.resourceGroup,
        resourceGroupName,
        "a resource group name: 1–90 letters, digits, _ - . ( ), not ending with .",
    );
    const logAnalyticsWorkspace = check.matches(
        "azure.logAnalyticsWorkspace",
        azure.logAnalyticsWorkspace,
        workspaceName,
        "a workspace name: 4–63 letters, digits and hyphens, starting and ending with a letter or digit",
    );

    const network =
        check.section("azure.network", azure.network, ["name", "addressSpace", "postgresSubnet"], true) ?? {};
    const networkName = check.matches(
        "azure.network.name",
        network.name,
        virtualNetworkName,
        "a virtual network name: 2–64 letters, digits, _ - ., starting with a letter or digit",
    );
    const addressSpace = check.cidr("azure.network.addressSpace", network.addressSpace);
    const postgresSubnet = check.cidr("azure.network.postgresSubnet", network.postgresSubnet);
    if (addressSpace !== undefined && postgresSubnet !== undefined) {
        if (!cidrContains(addressSpace, postgresSubnet)) {
            check.report(
                "azure.network.postgresSubnet",
                postgresSubnet,
                `${postgresSubnet} is not inside azure.network.addressSpace ${addressSpace}; allowed: a subnet of ${addressSpace}`,
            );
        } else if (prefixLength(postgresSubnet) > 28) {
            check.report(
                "azure.network.postgresSubnet",
                postgresSubnet,
                `${postgresSubnet} is too small; allowed: a prefix of /28 or larger (Flexible Server needs at least /28)`,
            );
        }
    }

    const postgres =
        check.section(
            "azure.postgres",
            azure.postgres,
            ["serverName", "version", "skuName", "skuTier", "storageSizeGB", "administratorLogin"],
            true,
        ) ?? {};
    const serverName = check.matches(
        "azure.postgres.serverName",
        postgres.serverName,
        postgresServerName,
        "a server name: 3–63 lower-case letters, digits and hyphens, starting and ending with a letter or digit",
    );
    const version = check.oneOf(
        "azure.postgres.version",
        typeof postgres.version === "number" ? String(postgres.version) : postgres.version,
        supportedPostgresVersions,
    );
    const skuName = check.matches(
        "azure.postgres.skuName",
        postgres.skuName ?? azureDefaults.postgres.skuName,
        postgresSkuName,
        "a Flexible Server compute size such as Standard_D2ds_v5",
    );
    const skuTier = check.oneOf(
        "azure.postgres.skuTier",
        postgres.skuTier ?? azureDefaults.postgres.skuTier,
        postgresSkuTiers,
    );
    const storageSizeGB = check.oneOf(
        "azure.postgres.storageSizeGB",
        postgres.storageSizeGB ?? azureDefaults.postgres.storageSizeGB,
        postgresStorageSizesGB,
    );
    const administratorLogin = check.matches(
        "azure.postgres.administratorLogin",
        postgres.administratorLogin ?? azureDefaults.postgres.administratorLogin,
        postgresAdministratorLogin,
        "a login of 1–63 letters, digits and _, starting with a letter, not starting with pg_, not azure_superuser, azure_pg_admin, admin, administrator, root, guest or public",
    );

    const storage = check.section("azure.storage", azure.storage, ["accountName", "sku", "shareQuotaGiB"], true) ?? {};
    const accountName = check.matches(
        "azure.storage.accountName",
        storage.accountName,
        storageAccountName,
        "a storage account name: 3–24 lower-case letters and digits (globally unique)",
    );
    const sku = check.oneOf(
        "azure.storage.sku",
        storage.sku,
        storageV2GeoRedundantSkus,
        backupPolicy.fileShares.geoRedundant,
    );
    const shareQuotaGiB = check.integer(
        "azure.storage.shareQuotaGiB",
        storage.shareQuotaGiB ?? azureDefaults.storage.shareQuotaGiB,
        1,
        maximumShareQuotaGiB,
    );

    const vault = check.section("azure.vault", azure.vault, ["name", "immutability"], true) ?? {};
    const vaultName = check.matches(
        "azure.vault.name",
        vault.name,
        recoveryVaultName,
        "a vault name: 2–50 letters, digits and hyphens, starting with a letter",
    );
    const immutability = check.oneOf(
        "azure.vault.immutability",
        vault.immutability ?? azureDefaults.vault.immutability,
        vaultImmutabilityStates,
    );

    if (
        location === undefined ||
        resourceGroup === undefined ||
        logAnalyticsWorkspace === undefined ||
        networkName === undefined ||
        addressSpace === undefined ||
        postgresSubnet === undefined ||
        serverName === undefined ||
        version === undefined ||
        skuName === undefined ||
        skuTier === undefined ||
        storageSizeGB === undefined ||
        administratorLogin === undefined ||
        accountName === undefined ||
        sku === undefined ||
        shareQuotaGiB === undefined ||
        vaultName === undefined ||
        immutability === undefined
    ) {
        return undefined;
    }
    return {
        location,
        resourceGroup,
        logAnalyticsWorkspace,
        network: { name: networkName, addressSpace, postgresSubnet },
        postgres: { serverName, version, skuName, skuTier, storageSizeGB, administratorLogin },
        storage: { accountName, sku, shareQuotaGiB },
        vault: { name: vaultName, immutability },
    };
}

// Azure and PostgreSQL naming rules.
const resourceGroupName = /^[-\w.()]{0,89}[-\w()]$/;
const workspaceName = /^[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$/;
const virtualNetworkName = /^[A-Za-z0-9][-\w.]{0,62}[\w]$/;
const postgresServerName = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const postgresSkuName = /^Standard_[A-Za-z0-9_]+$/;
const storageAccountName = /^[a-z0-9]{3,24}$/;
const recoveryVaultName = /^[A-Za-z][A-Za-z0-9-]{1,49}$/;
const shareName = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const reservedDatabases = ["postgres", "azure_maintenance", "azure_sys", "template0", "template1"];
const postgresDatabaseName = (name: string): boolean =>
    /^[a-z_][a-z0-9_]{0,62}$/.test(name) && !reservedDatabases.includes(name);
const reservedLogins = ["azure_superuser", "azure_pg_admin", "admin", "administrator", "root", "guest", "public"];
const postgresAdministratorLogin = (login: string): boolean =>
    /^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(login) &&
    !login.toLowerCase().startsWith("pg_") &&
    !reservedLogins.includes(login.toLowerCase());

/** Collects problems while reading values. */
class Checker {
    public readonly problems: ConfigProblem[] = [];

    report(key: string, value: unknown, message: string): void {
        this.problems.push({ key, value, message });
    }

    /** A value from a fixed list; `requirement` names the policy clause behind the list. */
    oneOf<T extends string | number | boolean>(
        key: string,
        value: unknown,
        allowed: readonly T[],
        requirement?: Requirement<unknown>,
    ): T | undefined {
        const note = requirement ? policyNote(requirement) : "";
        if (value === undefined) {
            this.report(key, value, `is missing; allowed: ${allowed.map(show).join(", ")}${note}`);
            return undefined;
        }
        if (!allowed.includes(value as T)) {
            this.report(key, value, `${show(value)} is not allowed; allowed: ${allowed.map(show).join(", ")}${note}`);
            return undefined;
        }
        return value as T;
    }

    /** A string that passes a naming rule. */
    matches(
        key: string,
        value: unknown,
        rule: RegExp | ((text: string) => boolean),
        expected: string,
    ): string | undefined {
        if (value === undefined) {
            this.report(key, value, `is missing; required: ${expected}`);
            return undefined;
        }
        const ok = typeof value === "string" && (rule instanceof RegExp ? rule.test(value) : rule(value));
        if (!ok) {
            this.report(key, value, `${show(value)} is not valid; allowed: ${expected}`);
            return undefined;
        }
        return value as string;
    }

    integer(key: string, value: unknown, min: number, max: number): number | undefined {
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            this.report(key, value, `${show(value)} is not valid; allowed: a whole number from ${min} to ${max}`);
            return undefined;
        }
        return value;
    }

    cidr(key: string, value: unknown): string | undefined {
        return this.matches(
            key,
            value,
            (text) => parseCidr(text) !== undefined,
            "an IPv4 address range in CIDR notation such as 10.20.0.0/16",
        );
    }

    /**
     * A nested object. Reports a missing required section and keys it does not know (typos);
     * `knownKeys` undefined means any key is allowed.
     */
    section(
        key: string,
        value: unknown,
        knownKeys: readonly string[] | undefined,
        required: boolean,
        expected?: string,
    ): Record<string, unknown> | undefined {
        const description = expected ?? (knownKeys ? `an object with ${knownKeys.join(", ")}` : "an object");
        if (value === undefined) {
            if (required) {
                this.report(key, value, `is missing; required: ${description}`);
            }
            return undefined;
        }
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            this.report(key, value, `${show(value)} is not valid; expected ${description}`);
            return undefined;
        }
        const record = value as Record<string, unknown>;
        if (knownKeys) {
            this.knownKeys(key, record, knownKeys);
        }
        return record;
    }

    knownKeys(path: string, record: Readonly<Record<string, unknown>>, known: readonly string[]): void {
        for (const key of Object.keys(record)) {
            if (!known.includes(key)) {
                const full = path === "" ? key : `${path}.${key}`;
                this.report(
                    full,
                    record[key],
                    `is not a known setting; known settings${path === "" ? "" : ` of ${path}`}: ${known.join(", ")}`,
                );
            }
        }
    }
}

/** " (Data Backup Policy 1.2.0 §2.5.1.1: <what it says>)" */
function policyNote(requirement: Requirement<unknown>): string {
    return ` (Data Backup Policy ${backupPolicy.version.value} ${requirement.clause}: ${requirement.text})`;
}

/** A value as the user wrote it in YAML: plain words unquoted, everything else as JSON. */
function show(value: unknown): string {
    if (typeof value === "string") {
        return /^[\w.\-/:]+$/.test(value) ? value : JSON.stringify(value);
    }
    return JSON.stringify(value) ?? String(value);
}

function parseCidr(text: string): { address: number; length: number } | undefined {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
    if (!match) {
        return undefined;
    }
    const octets = match.slice(1, 5).map(Number);
    const length = Number(match[5]);
    if (octets.some((octet) => octet > 255) || length > 32) {
        return undefined;
    }
    const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
    // The address must be the first of its range (10.20.0.0/16, not 10.20.1.0/16).
    return address % 2 ** (32 - length) === 0 ? { address, length } : undefined;
}

function prefixLength(cidr: string): number {
    return (parseCidr(cidr) as { length: number }).length;
}

function cidrContains(outer: string, inner: string): boolean {
    const a = parseCidr(outer);
    const b = parseCidr(inner);
    if (!a || !b || b.length < a.length) {
        return false;
    }
    const size = 2 ** (32 - a.length);
    return Math.floor(b.address / size) === Math.floor(a.address / size);
}
