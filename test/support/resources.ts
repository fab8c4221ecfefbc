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
