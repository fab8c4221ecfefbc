/**
 * Recovery Services vault holding the Azure Files backups (prod/trial, §2.5.1.1, §2.5, §2.3, §2.6,
 * §2.9). Property names and the type token are the azure-native 3.x SDK's (`recoveryservices.Vault`).
 */
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { Vault } from "@pulumi/azure-native/recoveryservices/vault";
import {
    ImmutabilityState,
    PublicNetworkAccess,
    SoftDeleteState,
    StandardTierStorageRedundancy,
} from "@pulumi/azure-native/types/enums/recoveryservices";
import { backupPolicy } from "../../components/policy";
import { observe, shown } from "../lib/read";
import { backupRule, configSchema, settings } from "../lib/rule";

export const vaultGeoRedundantStorage = backupRule<ResourceValidationPolicy>([backupPolicy.fileShares.geoRedundant], {
    name: "vault-geo-redundant-storage",
    description:
        "Recovery Services vault stores backups geo-redundantly " +
        `(properties.redundancySettings.standardTierStorageRedundancy = ${StandardTierStorageRedundancy.GeoRedundant}; ` +
        "Azure only changes it while the vault holds no backups).",
    validateResource: validateResourceOfType(Vault, (vault, args, reportViolation) => {
        const redundancy = observe(args, vault, "properties", "redundancySettings", "standardTierStorageRedundancy");
        if (redundancy !== StandardTierStorageRedundancy.GeoRedundant) {
            reportViolation(
                `properties.redundancySettings.standardTierStorageRedundancy is ${shown(redundancy)}; the policy requires ${StandardTierStorageRedundancy.GeoRedundant}.`,
            );
        }
    }),
});

/** Soft-delete states that keep deleted backups recoverable (AlwaysON cannot be switched off again). */
const softDeleteOn: readonly string[] = [SoftDeleteState.Enabled, SoftDeleteState.AlwaysON];

export const vaultSoftDeleteEnabled = backupRule<ResourceValidationPolicy>([backupPolicy.protection.againstDeletion], {
    name: "vault-soft-delete-enabled",
    description:
        "Recovery Services vault keeps deleted backups recoverable " +
        `(properties.securitySettings.softDeleteSettings.softDeleteState ${softDeleteOn.join(" or ")}).`,
    validateResource: validateResourceOfType(Vault, (vault, args, reportViolation) => {
        const state = observe(args, vault, "properties", "securitySettings", "softDeleteSettings", "softDeleteState");
        if (typeof state !== "string" || !softDeleteOn.includes(state)) {
            reportViolation(
                `properties.securitySettings.softDeleteSettings.softDeleteState is ${shown(state)}; the policy requires ${softDeleteOn.join(" or ")}.`,
            );
        }
    }),
});

const immutabilityStates: readonly string[] = [ImmutabilityState.Unlocked, ImmutabilityState.Locked];
const immutabilityDefaults = { requireLocked: false };

export const vaultImmutabilityEnabled = backupRule<ResourceValidationPolicy>([backupPolicy.protection.secureLocation], {
    name: "vault-immutability-enabled",
    description:
        "Recovery Services vault does not let backups be altered or deleted before they expire " +
        `(properties.securitySettings.immutabilitySettings.state ${immutabilityStates.join(" or ")}, not ${ImmutabilityState.Disabled}; ` +
        `config requireLocked demands ${ImmutabilityState.Locked}).`,
    configSchema: configSchema(immutabilityDefaults, {
        requireLocked: { type: "boolean", description: `Accept only ${ImmutabilityState.Locked} (irreversible)` },
    }),
    validateResource: validateResourceOfType(Vault, (vault, args, reportViolation) => {
        const { requireLocked } = settings(args, immutabilityDefaults);
        const accepted = requireLocked ? [ImmutabilityState.Locked] : immutabilityStates;
        const state = observe(args, vault, "properties", "securitySettings", "immutabilitySettings", "state");
        if (typeof state !== "string" || !accepted.includes(state)) {
            reportViolation(
                `properties.securitySettings.immutabilitySettings.state is ${shown(state)}; the policy requires ${accepted.join(" or ")}.`,
            );
        }
    }),
});

export const vaultPublicNetworkAccessDisabled = backupRule<ResourceValidationPolicy>(
    [backupPolicy.protection.accessRestricted],
    {
        name: "vault-public-network-access-disabled",
        description: `Recovery Services vault is reachable only privately (properties.publicNetworkAccess = ${PublicNetworkAccess.Disabled}).`,
        validateResource: validateResourceOfType(Vault, (vault, args, reportViolation) => {
            const access = observe(args, vault, "properties", "publicNetworkAccess");
            if (access !== PublicNetworkAccess.Disabled) {
                reportViolation(
                    `properties.publicNetworkAccess is ${shown(access)}; the policy requires ${PublicNetworkAccess.Disabled}.`,
                );
            }
        }),
    },
);

export const vaultRules = [
    vaultGeoRedundantStorage,
    vaultSoftDeleteEnabled,
    vaultImmutabilityEnabled,
    vaultPublicNetworkAccessDisabled,
];
