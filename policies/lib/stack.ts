/**
 * Helpers for stack rules, which see every resource of the stack with its *outputs* (after a
 * deployment) or its inputs projected to outputs (during preview, unknown where not yet known).
 *
 * Provider outputs and program inputs name some properties differently: an azure-native resource's
 * own name is the input `serverName` / `accountName` / `configurationName` but the output `name`.
 * `nameOf` reads the input name first, then the output one, so a rule works on both.
 *
 * Which resource refers to which: the engine tells each resource which resources each of its
 * properties was computed from (`propertyDependencies`); that is known even during preview, when
 * the referenced names and ids are still unknown. Offline (mocks) the values are known, so equal
 * values are accepted as a reference too.
 */
import type { PolicyResource } from "@pulumi/policy";
import { valueAt } from "./read";

/** The resource's own name: its input name property if set, else its output `name`. */
export function nameOf(resource: PolicyResource, inputNameProperty: string): unknown {
    const input = valueAt(resource.props, [inputNameProperty]);
    return input !== undefined ? input : valueAt(resource.props, ["name"]);
}

/** True when `property` of `from` was computed from `to` (engine-reported dependency). */
export function dependsThrough(from: PolicyResource, property: string, to: PolicyResource): boolean {
    const deps = from.propertyDependencies?.[property] ?? [];
    return deps.some((d) => d.urn === to.urn);
}

/**
 * True when `from.props[property]` refers to `to`: by engine-reported dependency, or by value equal
 * to one of `to`'s identifying values (`keys`, read with `valueAt`). Throws `UnknownValueError` when
 * the values needed are unknown and no dependency settles it.
 */
export function refersTo(from: PolicyResource, property: string, to: PolicyResource, keys: readonly string[]): boolean {
    if (dependsThrough(from, property, to)) {
        return true;
    }
    const value = valueAt(from.props, property.split("."));
    if (value === undefined) {
        return false;
    }
    return keys.some((key) => {
        const candidate = valueAt(to.props, key.split("."));
        return candidate !== undefined && sameName(value, candidate);
    });
}

/** Azure resource names and ids compare case-insensitively. */
export function sameName(a: unknown, b: unknown): boolean {
    return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

/** A short, readable label of a resource for messages: "type name". */
export function label(resource: { readonly type: string; readonly name: string }): string {
    return `${resource.type} "${resource.name}"`;
}
