/**
 * Policy pack config, reconciled and validated the way the Pulumi CLI does it before it calls
 * Configure (pulumi/pulumi pkg/resource/analyzer/config.go: parsePolicyPackConfig,
 * ReconcilePolicyPackConfig, validatePolicyPackConfig):
 *
 * 1. each entry is an enforcement level or an object (its `enforcementLevel` a valid level),
 * 2. every policy starts with its schema's defaults and its own level, an "all" level applies to
 *    every policy, then the given entries on top,
 * 3. each policy's properties are validated with real JSON Schema (ajv) against
 *    `{ type: "object", properties, required }` built from its configSchema, as the CLI builds it.
 *
 * On top of the CLI, two typos are refused that the CLI would silently ignore: a policy name the pack
 * does not have, and a property the policy's schema does not list.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import type { EnforcementLevel, Policies } from "@pulumi/policy";

export interface ConfigurablePack {
    readonly name: string;
    readonly enforcementLevel: EnforcementLevel;
    readonly policies: Policies;
}

/** Policy config as `pulumi preview --policy-pack-config` takes it: level, or level plus properties. */
export type PolicyConfigInput = Readonly<
    Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>
>;

/** Config per policy as the runtime holds it after Configure: properties plus enforcementLevel. */
export type ReconciledConfig = Record<string, Record<string, unknown> & { enforcementLevel: EnforcementLevel }>;

export class PolicyConfigError extends Error {}

const enforcementLevels: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validators = new WeakMap<Policies[number], ValidateFunction>();

/** The JSON Schema the CLI validates a policy's properties against. */
function validatorOf(policy: Policies[number]): ValidateFunction | undefined {
    const schema = policy.configSchema;
    if (schema === undefined) {
        return undefined;
    }
    let validate = validators.get(policy);
    if (validate === undefined) {
        validate = ajv.compile({
            type: "object",
            ...(Object.keys(schema.properties ?? {}).length > 0 ? { properties: schema.properties } : {}),
            ...((schema.required ?? []).length > 0 ? { required: schema.required } : {}),
        });
        validators.set(policy, validate);
    }
    return validate;
}

/**
 * The config the CLI sends with Configure: for every policy its schema defaults and enforcement
 * level, then `given` on top (an "all" entry sets every level), validated against each schema.
 * Throws a PolicyConfigError naming every problem.
 */
export function reconcileConfig(pack: ConfigurablePack, given: PolicyConfigInput = {}): ReconciledConfig {
    const errors: string[] = [];
    const result = defaultsOf(pack);
    const levelOfAll = levelOf("all", given["all"], errors);
    if (levelOfAll !== undefined) {
        for (const config of Object.values(result)) config.enforcementLevel = levelOfAll;
    }
    for (const [policyName, value] of Object.entries(given)) {
        if (policyName === "all") continue;
        const level = levelOf(policyName, value, errors);
        const target = result[policyName];
        if (target === undefined) {
            errors.push(`${policyName}: not a policy of pack ${pack.name}`);
            continue;
        }
        const { enforcementLevel: _level, ...properties } = isObject(value) ? value : {};
        Object.assign(target, properties, level === undefined ? {} : { enforcementLevel: level });
    }
    for (const policy of pack.policies) {
        errors.push(...problemsOf(policy, result[policy.name]));
    }
    if (errors.length > 0) {
        throw new PolicyConfigError(`invalid policy pack config:\n  ${errors.join("\n  ")}`);
    }
    return result;
}

function defaultsOf(pack: ConfigurablePack): ReconciledConfig {
    const result: ReconciledConfig = {};
    for (const policy of pack.policies) {
        const defaults: Record<string, unknown> = {};
        for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
            if (typeof schema === "object" && schema.default !== undefined) {
                defaults[key] = schema.default;
            }
        }
        result[policy.name] = { ...defaults, enforcementLevel: policy.enforcementLevel ?? pack.enforcementLevel };
    }
    return result;
}

/** The level an entry sets (undefined: none); a value that is neither a level nor an object is an error. */
function levelOf(policyName: string, value: unknown, errors: string[]): EnforcementLevel | undefined {
    if (value === undefined) {
        return undefined;
    }
    if (typeof value !== "string" && !isObject(value)) {
        errors.push(`${policyName}: ${JSON.stringify(value)} is not valid; expected an enforcement level or an object`);
        return undefined;
    }
    const level = isObject(value) ? value.enforcementLevel : value;
    if (level === undefined) {
        return undefined;
    }
    if (!enforcementLevels.includes(level as EnforcementLevel)) {
        errors.push(
            `${policyName}.enforcementLevel: ${JSON.stringify(level)} is not one of ${enforcementLevels.join(", ")}`,
        );
        return undefined;
    }
    return level as EnforcementLevel;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What the CLI's JSON Schema validation reports for one policy, plus properties its schema does not list. */
function problemsOf(policy: Policies[number], config: ReconciledConfig[string]): string[] {
    const { enforcementLevel: _level, ...properties } = config;
    const known = policy.configSchema?.properties ?? {};
    const unknown = Object.keys(properties)
        .filter((key) => !(key in known))
        .map((key) => `${policy.name}.${key}: not a config property of this policy`);
    const validate = validatorOf(policy);
    if (validate === undefined || validate(properties)) {
        return unknown;
    }
    return [...unknown, ...(validate.errors ?? []).map((error) => describe(policy.name, error))];
}

/** An ajv error as "<policy>.<property>: <value> <what is wrong>". */
function describe(policyName: string, error: ErrorObject): string {
    const where = `${policyName}${error.instancePath.replace(/\/(\d+)(?=\/|$)/g, "[$1]").replace(/\//g, ".")}`;
    const value: unknown = error.data;
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
        case "type":
            return `${where}: ${JSON.stringify(value)} is not of type ${String(params.type).replace(/,/g, " or ")}`;
        case "enum":
            return `${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(params.allowedValues)}`;
        case "minimum":
            return `${where}: ${String(value)} is less than the minimum ${String(params.limit)}`;
        case "maximum":
            return `${where}: ${String(value)} is greater than the maximum ${String(params.limit)}`;
        case "minItems":
            return `${where}: needs at least ${String(params.limit)} item(s)`;
        case "required":
            return `${where}.${String(params.missingProperty)}: required`;
        default:
            return `${where}: ${JSON.stringify(value)} ${error.message ?? "is not valid"}`;
    }
}
