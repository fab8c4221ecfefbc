/**
 * Reading the resources of an offline run in tests.
 */
import { OfflineResource, OfflineRun, resourcesOfType } from "../../stacks/offline";

/** The one resource of a type; fails the test if there are none or several. */
export function only(run: OfflineRun, type: string): OfflineResource {
    const found = resourcesOfType(run, type);
    if (found.length !== 1) {
        throw new Error(
            `expected exactly one ${type}, found ${found.length}: ${found.map((resource) => resource.name).join(", ")}`,
        );
    }
    return found[0];
}

/** An input by dotted path ("backup.backupRetentionDays"; list indexes as numbers: "a.0.b"). */
export function input(resource: OfflineResource, path: string): unknown {
    return path
        .split(".")
        .reduce<unknown>(
            (node, key) => (node === undefined || node === null ? undefined : (node as Record<string, unknown>)[key]),
            resource.inputs,
        );
}

/** The resources of a type that are children of a component of `componentType` (e.g. "backup-policy:azure:FileStorage"). */
export function childrenOf(run: OfflineRun, componentType: string, type: string): OfflineResource[] {
    return resourcesOfType(run, type).filter((resource) => resource.urn.includes(`::${componentType}$${type}::`));
}

/** The one resource of a type among the children of a component type; fails the test if there are none or several. */
export function onlyIn(run: OfflineRun, componentType: string, type: string): OfflineResource {
    const found = childrenOf(run, componentType, type);
    if (found.length !== 1) {
        throw new Error(`expected exactly one ${type} in ${componentType}, found ${found.length}`);
    }
    return found[0];
}
