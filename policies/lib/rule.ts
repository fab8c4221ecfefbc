/**
 * What every rule of the pack has in common: it is `mandatory`, its description starts with the
 * clause(s) of the Data Backup Policy it enforces, it names the policy's requirement objects it
 * enforces (the offline check's evidence table maps clause → rule → resource → value through them),
 * and its expected values come from components/policy.ts, overridable by policy config.
 */
import type { PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { backupPolicy, type Requirement } from "../../components/policy";

export type BackupRule = ResourceValidationPolicy | StackValidationPolicy;

/** The requirements of components/policy.ts each rule enforces, by rule name. */
const enforcedBy = new Map<string, readonly Requirement<unknown>[]>();

/** The requirements a rule enforces (empty for a name that is not a rule of this pack). */
export function requirementsEnforcedBy(ruleName: string): readonly Requirement<unknown>[] {
    return enforcedBy.get(ruleName) ?? [];
}

/** "§2.5.1.1" or "§2.5.1.1, §2.5.1.2": the distinct clauses of a list of requirements, in order. */
export function clausesOf(requirements: readonly Requirement<unknown>[]): string {
    const clauses: string[] = [];
    for (const requirement of requirements) {
        for (const clause of requirement.clause.split(",").map((c) => c.trim())) {
            if (!clauses.includes(clause)) {
                clauses.push(clause);
            }
        }
    }
    return clauses.join(", ");
}

type RuleBody<P extends BackupRule> = Omit<P, "enforcementLevel" | "framework" | "description"> & {
    /** What the rule demands, in the policy's terms and with the expected value; the clause is prepended. */
    readonly description: string;
};

/**
 * Declares a rule: mandatory, description "§clause: text", the compliance framework set to the
 * Data Backup Policy and the clause (shown by `pulumi policy` and in the analyzer info).
 */
export function backupRule<P extends BackupRule>(enforces: readonly Requirement<unknown>[], body: RuleBody<P>): P {
    if (enforces.length === 0) {
        throw new Error(`rule ${body.name} must enforce at least one requirement of the Data Backup Policy`);
    }
    const clauses = clausesOf(enforces);
    enforcedBy.set(body.name, enforces);
    return {
        ...body,
        description: `${clauses}: ${body.description}`,
        enforcementLevel: "mandatory",
        framework: {
            name: "IT Manufactory GmbH Data Backup Policy",
            version: backupPolicy.version.value,
            reference: clauses,
            specification: enforces.map((r) => r.text).join("; "),
        },
    } as unknown as P;
}

/** JSON-schema types of the config values this pack uses. */
export type ConfigValue = string | number | boolean | readonly string[];

/** A config schema whose defaults are the policy module's values (the CLI fills them in before Configure). */
export function configSchema<C extends Record<string, ConfigValue>>(
    defaults: C,
    properties: { readonly [K in keyof C]: Omit<PolicyConfigJSONSchema, "default"> },
): PolicyConfigSchema {
    const withDefaults: Record<string, PolicyConfigJSONSchema> = {};
    for (const key of Object.keys(properties) as (keyof C & string)[]) {
        withDefaults[key] = { ...properties[key], default: defaults[key] };
    }
    return { properties: withDefaults };
}

/**
 * The rule's settings: the policy module's values, overridden by whatever policy config the engine
 * passed (the CLI passes the schema defaults plus `--policy-pack-config`; a bare runtime passes none).
 */
export function settings<C extends Record<string, ConfigValue>>(
    args: { getConfig<T extends object>(): T },
    defaults: C,
): C {
    const given = args.getConfig<Partial<C>>();
    const result: Record<string, ConfigValue> = { ...defaults };
    for (const key of Object.keys(defaults)) {
        const value = (given as Record<string, ConfigValue | undefined>)[key];
        if (value !== undefined && value !== null) {
            result[key] = value;
        }
    }
    return result as C;
}
