/**
 * Building blocks of the stack configuration schema (stacks/config.ts), on zod: each one carries the
 * message a user reads when the value is wrong, and `configProblems` turns zod's issues into one
 * problem per key as written in Pulumi.<stack>.yaml.
 */
import { Address4 } from "ip-address";
import { z } from "zod";
import { backupPolicy, Requirement } from "../components/policy";

/** One wrong or missing setting. */
export interface ConfigProblem {
    /** The key as written in Pulumi.<stack>.yaml below the namespace, e.g. "azure.location". */
    readonly key: string;
    /** The value found (undefined when missing). */
    readonly value: unknown;
    /** What is wrong and what is allowed, e.g. `westus is not allowed; allowed: northeurope (...)`. */
    readonly message: string;
}

/** " (Data Backup Policy 1.2.0 §2.5.1.1: <what it says>)", or "" without a requirement. */
export function policyNote(requirement?: Requirement<unknown>): string {
    return requirement
        ? ` (Data Backup Policy ${backupPolicy.version.value} ${requirement.clause}: ${requirement.text})`
        : "";
}

/** A value as the user wrote it in YAML: plain words unquoted, everything else as JSON. */
export function show(value: unknown): string {
    if (typeof value === "string") {
        return /^[\w.\-/:]+$/.test(value) ? value : JSON.stringify(value);
    }
    return JSON.stringify(value) ?? String(value);
}

/**
 * Field checks do not abort: the checks of the section around them (a subnet inside its network, no
 * database twice) still run, so one run reports every problem.
 */
const keepChecking = { abort: false } as const;

/** A value from a fixed list; `requirement` names the policy clause behind the list. */
export function oneOf<const T extends string | number | boolean>(
    allowed: readonly T[],
    requirement?: Requirement<unknown>,
): z.ZodCustom<T, T> {
    const list = `${allowed.map(show).join(", ")}${policyNote(requirement)}`;
    return z.custom<T>((value) => (allowed as readonly unknown[]).includes(value), {
        ...keepChecking,
        error: (issue) =>
            issue.input === undefined
                ? `is missing; allowed: ${list}`
                : `${show(issue.input)} is not allowed; allowed: ${list}`,
    });
}

/** A string that passes a naming rule; `missing` replaces "required: <expected>" when it is absent. */
export function named(
    rule: RegExp | ((text: string) => boolean),
    expected: string,
    missing = `required: ${expected}`,
): z.ZodCustom<string, string> {
    const passes = (text: string): boolean => (rule instanceof RegExp ? rule.test(text) : rule(text));
    return z.custom<string>((value) => typeof value === "string" && passes(value), {
        ...keepChecking,
        error: (issue) =>
            issue.input === undefined
                ? `is missing; ${missing}`
                : `${show(issue.input)} is not valid; allowed: ${expected}`,
    });
}

/** A whole number from `min` to `max`. */
export function wholeNumber(min: number, max: number): z.ZodCustom<number, number> {
    return z.custom<number>(
        (value) => Number.isInteger(value) && (value as number) >= min && (value as number) <= max,
        {
            error: (issue) => `${show(issue.input)} is not valid; allowed: a whole number from ${min} to ${max}`,
        },
    );
}

/**
 * A nested object with exactly these keys (a key it does not know is a typo and is reported);
 * `expected` describes it when it is missing or not an object.
 */
export function section<S extends z.core.$ZodLooseShape>(shape: S, expected?: string) {
    const known = Object.keys(shape).join(", ");
    const description = expected ?? `an object with ${known}`;
    return z.strictObject(shape, {
        error: (issue) => {
            if (issue.code === "unrecognized_keys") {
                return known; // configProblems turns this into one problem per unknown key
            }
            return issue.input === undefined
                ? `is missing; required: ${description}`
                : `${show(issue.input)} is not valid; expected ${description}`;
        },
    });
}

/** An IPv4 address range in CIDR notation whose address is the first of its range (10.20.0.0/16). */
export function isCidr(value: unknown): value is string {
    if (typeof value !== "string" || !value.includes("/") || !Address4.isValid(value)) {
        return false;
    }
    const range = new Address4(value);
    return range.startAddress().correctForm() === range.addressMinusSuffix;
}

export const cidr = named(isCidr, "an IPv4 address range in CIDR notation such as 10.20.0.0/16");

/** Whether `inner` lies inside `outer` (both valid CIDR ranges). */
export function cidrContains(outer: string, inner: string): boolean {
    return new Address4(inner).isInSubnet(new Address4(outer));
}

export function prefixLength(range: string): number {
    return new Address4(range).subnetMask;
}

/** The problems of a failed parse of `raw`, one per key, in the order the schema found them. */
export function configProblems(error: z.ZodError, raw: unknown): ConfigProblem[] {
    return error.issues.flatMap((issue): ConfigProblem[] => {
        if (issue.code !== "unrecognized_keys") {
            return [{ key: keyOf(issue.path), value: valueAt(raw, issue.path), message: issue.message }];
        }
        const where = issue.path.length === 0 ? "" : ` of ${keyOf(issue.path)}`;
        return issue.keys.map((key) => ({
            key: keyOf([...issue.path, key]),
            value: valueAt(raw, [...issue.path, key]),
            message: `is not a known setting; known settings${where}: ${issue.message}`,
        }));
    });
}

/** "azure.network.name", "shares[1]" */
function keyOf(path: readonly PropertyKey[]): string {
    return path
        .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`))
        .join("");
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
    let node = raw;
    for (const part of path) {
        if (typeof node !== "object" || node === null) {
            return undefined;
        }
        node = (node as Record<PropertyKey, unknown>)[part];
    }
    return node;
}
