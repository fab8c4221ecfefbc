import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";

/** Name of every management lock this project creates. */
export const cannotDeleteLockName = "backup-policy-cannot-delete";

/**
 * A `CanNotDelete` management lock on one resource, so that it also survives a deletion outside
 * Pulumi (portal, CLI). The one helper every component uses for locks (like the Azure Verified
 * Modules' common `lock` parameter). `notes` says why (clause and consequence).
 */
export function cannotDeleteLock(
    name: string,
    scope: pulumi.Input<string>,
    notes: string,
    parent: pulumi.Resource,
): azure.authorization.ManagementLockByScope {
    return new azure.authorization.ManagementLockByScope(
        name,
        { lockName: cannotDeleteLockName, scope, level: azure.authorization.LockLevel.CanNotDelete, notes },
        { parent },
    );
}
