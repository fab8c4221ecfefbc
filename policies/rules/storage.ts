/**
 * Azure Storage account holding the "Documents & Images" file shares (prod/trial, §2.5.1.1, §2.5,
 * §2.6, §2.9). Property names and type tokens are the azure-native 3.x SDK's
 * (`storage.StorageAccount`, `storage.FileServiceProperties`, `storage.FileShare`).
 *
 * Three rules are stack rules so that they can recognise the drill scratch account (§2.10,
 * policies/lib/drillScratch.ts) by what the stack shows of it, and exempt it and only it: secure
 * transfer, geo-redundant SKU and infrastructure encryption are impossible for an NFS share's account.
 */
import {
    type PolicyResource,
    type ReportViolation,
    type ResourceValidationPolicy,
    type StackValidationArgs,
    type StackValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import { FileServiceProperties } from "@pulumi/azure-native/storage/fileServiceProperties";
import { FileShare } from "@pulumi/azure-native/storage/fileShare";
import { StorageAccount } from "@pulumi/azure-native/storage/storageAccount";
import { MinimumTlsVersion } from "@pulumi/azure-native/types/enums/storage";
import { drillScratchAccount, geoRedundantStorageSkus } from "../../components/azure/settings";
import { backupPolicy } from "../../components/policy";
import { observe, record, shown, valueAt } from "../lib/read";
import { backupRule, configSchema, settings } from "../lib/rule";
import { drillScratchProblems } from "../lib/drillScratch";
import { label, refersTo } from "../lib/stack";

/** How an exempted account shows in the evidence table. */
const drillScratchEvidence = "drill scratch account (§2.10): exempt";

/**
 * Applies `check` to every storage account of the stack: its violation is reported unless the account
 * is a drill scratch account (then the exemption is recorded as evidence). `note` records what it read.
 */
function eachStorageAccount(
    args: StackValidationArgs,
    reportViolation: ReportViolation,
    check: (account: PolicyResource, note: (property: string, value: unknown) => unknown) => string | undefined,
): void {
    const accounts = args.resources.filter((r) => r.isType(StorageAccount));
    if (accounts.length === 0) args.notApplicable("The stack has no storage account.");
    for (const account of accounts) {
        const violation = check(account, (property, value) => {
            record(args, account.urn, property, value);
            return value;
        });
        if (violation === undefined) continue;
        const problems = drillScratchProblems(account, args.resources);
        if (problems.length === 0) {
            record(
                args,
                account.urn,
                drillScratchEvidence,
                "FileStorage, NFS shares only, Container Apps subnets only, mounted only by verify/drill jobs",
            );
            continue;
        }
        const scratchLike = valueAt(account.props, ["kind"]) === drillScratchAccount.kind;
        reportViolation(
            scratchLike ? `${violation} It is not a drill scratch account: ${problems.join("; ")}.` : violation,
            account.urn,
        );
    }
}

export const storageHttpsOnly = backupRule<StackValidationPolicy>([backupPolicy.encryption.storageMinTls], {
    name: "storage-https-only",
    description:
        "Storage account accepts encrypted connections only (enableHttpsTrafficOnly = true); " +
        "except the drill scratch account (§2.10), whose NFS share Azure Files serves only without secure transfer, on the Container Apps subnet only.",
    validateStack: (args, reportViolation) =>
        eachStorageAccount(args, reportViolation, (account, note) => {
            const httpsOnly = note("enableHttpsTrafficOnly", valueAt(account.props, ["enableHttpsTrafficOnly"]));
            return httpsOnly === true
                ? undefined
                : `enableHttpsTrafficOnly is ${shown(httpsOnly)}; the policy requires true.`;
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

export const storageInfrastructureEncryption = backupRule<StackValidationPolicy>([backupPolicy.encryption.atRest], {
    name: "storage-infrastructure-encryption",
    description:
        "Storage account encrypts data twice, also at the infrastructure level " +
        "(encryption.requireInfrastructureEncryption = true; Azure only accepts this when the account is created); " +
        "except the drill scratch account (§2.10): Azure offers it for general-purpose v2 and premium block blob accounts only, not FileStorage.",
    validateStack: (args, reportViolation) =>
        eachStorageAccount(args, reportViolation, (account, note) => {
            const infrastructure = note(
                "encryption.requireInfrastructureEncryption",
                valueAt(account.props, ["encryption", "requireInfrastructureEncryption"]),
            );
            return infrastructure === true
                ? undefined
                : `encryption.requireInfrastructureEncryption is ${shown(infrastructure)}; the policy requires true.`;
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

export const storageGeoRedundantSku = backupRule<StackValidationPolicy>([backupPolicy.fileShares.geoRedundant], {
    name: "storage-geo-redundant-sku",
    description:
        `Storage account replicates to the paired region (sku.name one of ${geoRedundantStorageSkus.join(", ")}); ` +
        "except the drill scratch account (§2.10), which holds restored copies only and whose NFS share exists only locally or zone redundant.",
    validateStack: (args, reportViolation) =>
        eachStorageAccount(args, reportViolation, (account, note) => {
            const sku = note("sku.name", valueAt(account.props, ["sku", "name"]));
            return typeof sku === "string" && geoRedundantStorageSkus.includes(sku)
                ? undefined
                : `sku.name is ${shown(sku)}; the policy requires a geo-redundant SKU (${geoRedundantStorageSkus.join(", ")}).`;
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
