/**
 * Azure Storage account holding the "Documents & Images" file shares (prod/trial, §2.5.1.1, §2.5,
 * §2.6, §2.9). Property names and type tokens are the azure-native 3.x SDK's
 * (`storage.StorageAccount`, `storage.FileServiceProperties`, `storage.FileShare`).
 */
import { type ResourceValidationPolicy, type StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { FileServiceProperties } from "@pulumi/azure-native/storage/fileServiceProperties";
import { FileShare } from "@pulumi/azure-native/storage/fileShare";
import { StorageAccount } from "@pulumi/azure-native/storage/storageAccount";
import { MinimumTlsVersion } from "@pulumi/azure-native/types/enums/storage";
import { geoRedundantStorageSkus } from "../../components/azure/settings";
import { backupPolicy } from "../../components/policy";
import { observe, record, shown, valueAt } from "../lib/read";
import { backupRule, configSchema, settings } from "../lib/rule";
import { label, refersTo } from "../lib/stack";

export const storageHttpsOnly = backupRule<ResourceValidationPolicy>([backupPolicy.encryption.storageMinTls], {
    name: "storage-https-only",
    description: "Storage account accepts encrypted connections only (enableHttpsTrafficOnly = true).",
    validateResource: validateResourceOfType(StorageAccount, (account, args, reportViolation) => {
        const httpsOnly = observe(args, account, "enableHttpsTrafficOnly");
        if (httpsOnly !== true) {
            reportViolation(`enableHttpsTrafficOnly is ${shown(httpsOnly)}; the policy requires true.`);
        }
    }),
});

/** Azure Storage's minimum TLS versions, weakest first. */
export const storageTlsVersions: readonly string[] = Object.values(MinimumTlsVersion);
const tlsDefaults = { minimumTlsVersion: backupPolicy.encryption.storageMinTls.value };

export const storageMinimumTls = backupRule<ResourceValidationPolicy>([backupPolicy.encryption.storageMinTls], {
    name: "storage-minimum-tls",
    description: `Storage account refuses TLS older than ${tlsDefaults.minimumTlsVersion} (minimumTlsVersion).`,
    configSchema: configSchema(tlsDefaults, {
        minimumTlsVersion: {
            type: "string",
            enum: [...storageTlsVersions],
            description: "Weakest TLS version a client may use",
        },
    }),
    validateResource: validateResourceOfType(StorageAccount, (account, args, reportViolation) => {
        const { minimumTlsVersion } = settings(args, tlsDefaults);
        const tls = observe(args, account, "minimumTlsVersion");
        const rank = (v: unknown) => storageTlsVersions.indexOf(String(v));
        if (tls === undefined || rank(tls) < 0 || rank(tls) < rank(minimumTlsVersion)) {
            reportViolation(`minimumTlsVersion is ${shown(tls)}; the policy requires ${minimumTlsVersion} or newer.`);
        }
    }),
});

export const storageInfrastructureEncryption = backupRule<ResourceValidationPolicy>([backupPolicy.encryption.atRest], {
    name: "storage-infrastructure-encryption",
    description:
        "Storage account encrypts data twice, also at the infrastructure level " +
        "(encryption.requireInfrastructureEncryption = true; Azure only accepts this when the account is created).",
    validateResource: validateResourceOfType(StorageAccount, (account, args, reportViolation) => {
        const infrastructure = observe(args, account, "encryption", "requireInfrastructureEncryption");
        if (infrastructure !== true) {
            reportViolation(
                `encryption.requireInfrastructureEncryption is ${shown(infrastructure)}; the policy requires true.`,
            );
        }
    }),
});

export const storageBlobPublicAccessDisabled = backupRule<ResourceValidationPolicy>(
    [backupPolicy.protection.accessRestricted],
    {
        name: "storage-blob-public-access-disabled",
        description: "Storage account allows no anonymous public access to blobs (allowBlobPublicAccess = false).",
        validateResource: validateResourceOfType(StorageAccount, (account, args, reportViolation) => {
            const publicAccess = observe(args, account, "allowBlobPublicAccess");
            if (publicAccess !== false) {
                reportViolation(`allowBlobPublicAccess is ${shown(publicAccess)}; the policy requires false.`);
            }
        }),
    },
);

export const storageGeoRedundantSku = backupRule<ResourceValidationPolicy>([backupPolicy.fileShares.geoRedundant], {
    name: "storage-geo-redundant-sku",
    description: `Storage account replicates to the paired region (sku.name one of ${geoRedundantStorageSkus.join(", ")}).`,
    validateResource: validateResourceOfType(StorageAccount, (account, args, reportViolation) => {
        const sku = observe(args, account, "sku", "name");
        if (typeof sku !== "string" || !geoRedundantStorageSkus.includes(sku)) {
            reportViolation(
                `sku.name is ${shown(sku)}; the policy requires a geo-redundant SKU (${geoRedundantStorageSkus.join(", ")}).`,
            );
        }
    }),
});

export const storageShareSoftDelete = backupRule<StackValidationPolicy>([backupPolicy.protection.againstDeletion], {
    name: "storage-share-soft-delete",
    description:
        "Every storage account of the stack that holds file shares keeps deleted shares recoverable " +
        "(its FileServiceProperties: shareDeleteRetentionPolicy.enabled = true with days set).",
    validateStack: (args, reportViolation) => {
        const accounts = args.resources.filter((r) => r.isType(StorageAccount));
        if (accounts.length === 0) {
            args.notApplicable("The stack has no storage account.");
        }
        const accountKeys = ["accountName", "name"];
        for (const account of accounts) {
            const shares = args.resources.filter(
                (r) => r.isType(FileShare) && refersTo(r, "accountName", account, accountKeys),
            );
            if (shares.length === 0) {
                continue;
            }
            const services = args.resources.filter(
                (r) => r.isType(FileServiceProperties) && refersTo(r, "accountName", account, accountKeys),
            );
            if (services.length === 0) {
                record(args, account.urn, "FileServiceProperties.shareDeleteRetentionPolicy", undefined);
                reportViolation(
                    `${label(account)} holds file shares but has no FileServiceProperties in this stack; share soft delete is not set.`,
                    account.urn,
                );
            }
            for (const service of services) {
                const policy = valueAt(service.props, ["shareDeleteRetentionPolicy"]);
                record(args, account.urn, "FileServiceProperties.shareDeleteRetentionPolicy", policy);
                const enabled = valueAt(policy, ["enabled"]);
                const days = valueAt(policy, ["days"]);
                if (enabled !== true || typeof days !== "number" || days < 1) {
                    reportViolation(
                        `${label(account)}: shareDeleteRetentionPolicy is ${shown(policy)}; the policy requires enabled = true and days ≥ 1.`,
                        account.urn,
                    );
                }
            }
        }
    },
});

export const storageRules = [
    storageHttpsOnly,
    storageMinimumTls,
    storageInfrastructureEncryption,
    storageBlobPublicAccessDisabled,
    storageGeoRedundantSku,
    storageShareSoftDelete,
];
