/**
 * The stack configuration: read from the `backup-policy` namespace of Pulumi.<stack>.yaml, checked
 * completely before any resource is registered, and handed to the program as one typed object.
 *
 * The schema below is the one place that says which keys exist and what each may hold; the types are
 * inferred from it. A wrong value never reaches Azure: every problem is reported at once, each naming
 * the key as it is written in the YAML file (`azure.location`), the value, what is allowed and, where
 * the value comes from the Data Backup Policy, the clause that demands it. A new key is one line in
 * its section (building blocks in ./configSchema.ts; prod and trial's sections in ./azureConfig.ts,
 * staging's in ./digitaloceanConfig.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { backupPolicy } from "../components/policy";
import { readDigitalOceanStaging } from "./digitaloceanConfig";
import {
    azureSections,
    drillScratchAccountApart,
    drillScratchEndpointSubnetFits,
    maintenanceOutsideBackupAndWorkingHours,
} from "./azureConfig";
import { ConfigProblem, configProblems, named, oneOf, policyNote, section, show } from "./configSchema";

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

// PostgreSQL's naming rules for a database (and the names Azure reserves).
const reservedDatabases = ["postgres", "azure_maintenance", "azure_sys", "template0", "template1"];
const postgresDatabaseName = (name: string): boolean =>
    /^[a-z_][a-z0-9_]{0,62}$/.test(name) && !reservedDatabases.includes(name);
const shareNameRule = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
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
        ...azureSections,
    })
        .superRefine(maintenanceOutsideBackupAndWorkingHours)
        .superRefine(drillScratchAccountApart)
        .superRefine(drillScratchEndpointSubnetFits),
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
