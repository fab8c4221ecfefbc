/**
 * Azure Backup of the "Documents & Images" file shares (prod/trial, §2.5.1.1): the AzureFileShare
 * protection policy's schedule and retention, and that every share is protected under such a policy.
 * Property names and type tokens are the azure-native 3.x SDK's (`recoveryservices.ProtectionPolicy`,
 * `recoveryservices.ProtectedItem`, `storage.FileShare`, `storage.StorageAccount`).
 */
import {
    type PolicyResource,
    type ReportViolation,
    type StackValidationArgs,
    type ResourceValidationPolicy,
    type StackValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import { ProtectedItem } from "@pulumi/azure-native/recoveryservices/protectedItem";
import { ProtectionPolicy } from "@pulumi/azure-native/recoveryservices/protectionPolicy";
import { FileShare } from "@pulumi/azure-native/storage/fileShare";
import { StorageAccount } from "@pulumi/azure-native/storage/storageAccount";
import {
    DayOfWeek,
    RetentionDurationType,
    RetentionScheduleFormat,
    ScheduleRunType,
    WeekOfMonth,
} from "@pulumi/azure-native/types/enums/recoveryservices";
import { backupPolicy } from "../../components/policy";
import { record, recordComputed, shown, valueAt } from "../lib/read";
import { backupRule, configSchema, settings } from "../lib/rule";
import { isDrillScratchShare } from "../lib/drillScratch";
import { dependsThrough, label, nameOf, refersTo, sameName } from "../lib/stack";

/** `properties.backupManagementType` of an Azure Files protection policy. */
export const azureFilesBackupManagementType = "AzureStorage";
/** `properties.protectedItemType` of a protected Azure file share. */
export const azureFileShareProtectedItemType = "AzureFileShareProtectedItem";

/** Notes what a check looked at (path below the protection policy, value). */
type Note = (property: string, value: unknown) => void;

/** Reads `path` below a protection policy's props and notes it. */
function read(policy: unknown, path: string, note: Note): unknown {
    const value = valueAt(policy, path.split("."));
    note(path, value);
    return value;
}

const scheduleTypes = ["SimpleSchedulePolicy", "SimpleSchedulePolicyV2"];

/** "30 Days", or "not set" when neither count nor unit is. */
function duration(count: unknown, unit: unknown): string {
    if (count === undefined && unit === undefined) {
        return "not set";
    }
    return `${shown(count)} ${typeof unit === "string" ? unit : shown(unit)}`;
}

/** Violations of "backed up daily" by an AzureFileShare protection policy's props. */
export function dailyScheduleViolations(policy: unknown, note: Note): string[] {
    const type = read(policy, "properties.schedulePolicy.schedulePolicyType", note);
    const frequency = read(policy, "properties.schedulePolicy.scheduleRunFrequency", note);
    const times =
        type === "SimpleSchedulePolicyV2"
            ? read(policy, "properties.schedulePolicy.dailySchedule.scheduleRunTimes", note)
            : read(policy, "properties.schedulePolicy.scheduleRunTimes", note);
    const violations: string[] = [];
    if (typeof type !== "string" || !scheduleTypes.includes(type)) {
        violations.push(
            `properties.schedulePolicy.schedulePolicyType is ${shown(type)}; the policy requires ${scheduleTypes.join(" or ")}.`,
        );
    }
    if (frequency !== ScheduleRunType.Daily) {
        violations.push(
            `properties.schedulePolicy.scheduleRunFrequency is ${shown(frequency)}; the policy requires ${ScheduleRunType.Daily}.`,
        );
    }
    if (!Array.isArray(times) || times.length !== 1) {
        violations.push(
            `the daily schedule's scheduleRunTimes is ${shown(times)}; the policy requires exactly one time of day.`,
        );
    }
    return violations;
}

const dailyDefaults = { dailyRetentionDays: backupPolicy.fileShares.dailyRetentionDays.value };

/**
 * Where an AzureFileShare policy keeps its retention: `properties.vaultRetentionPolicy.vaultRetention`
 * for the vault-standard tier (recovery points copied into the vault), `properties.retentionPolicy`
 * for the snapshot tier.
 */
export function retentionPath(policy: unknown): string {
    return valueAt(policy, ["properties", "vaultRetentionPolicy"]) !== undefined
        ? "properties.vaultRetentionPolicy.vaultRetention"
        : "properties.retentionPolicy";
}

/** Violations of "daily backups retained N days". */
export function dailyRetentionViolations(policy: unknown, expected: typeof dailyDefaults, note: Note): string[] {
    const base = retentionPath(policy);
    const type = read(policy, `${base}.retentionPolicyType`, note);
    const count = read(policy, `${base}.dailySchedule.retentionDuration.count`, note);
    const unit = read(policy, `${base}.dailySchedule.retentionDuration.durationType`, note);
    const violations: string[] = [];
    if (type !== "LongTermRetentionPolicy") {
        violations.push(`${base}.retentionPolicyType is ${shown(type)}; the policy requires LongTermRetentionPolicy.`);
    }
    if (count !== expected.dailyRetentionDays || unit !== RetentionDurationType.Days) {
        violations.push(
            `daily retention (${base}.dailySchedule.retentionDuration) is ${duration(count, unit)}; the policy requires ${expected.dailyRetentionDays} ${RetentionDurationType.Days}.`,
        );
    }
    return violations;
}

const monthlyDefaults = {
    weekOfMonth: backupPolicy.fileShares.monthlyAnchor.value.weekOfMonth as string,
    dayOfWeek: backupPolicy.fileShares.monthlyAnchor.value.dayOfWeek as string,
    monthlyRetentionMonths: backupPolicy.fileShares.monthlyRetentionMonths.value,
};

/** True when `value` is an array holding exactly `expected`. */
function exactly(value: unknown, expected: string): boolean {
    return Array.isArray(value) && value.length === 1 && value[0] === expected;
}

/** Violations of "a monthly backup from the first Sunday of each month is kept 6 months". */
export function monthlyRetentionViolations(policy: unknown, expected: typeof monthlyDefaults, note: Note): string[] {
    const base = `${retentionPath(policy)}.monthlySchedule`;
    const format = read(policy, `${base}.retentionScheduleFormatType`, note);
    const weeks = read(policy, `${base}.retentionScheduleWeekly.weeksOfTheMonth`, note);
    const days = read(policy, `${base}.retentionScheduleWeekly.daysOfTheWeek`, note);
    const count = read(policy, `${base}.retentionDuration.count`, note);
    const unit = read(policy, `${base}.retentionDuration.durationType`, note);
    const violations: string[] = [];
    if (format !== RetentionScheduleFormat.Weekly) {
        violations.push(
            `${base}.retentionScheduleFormatType is ${shown(format)}; the policy requires ${RetentionScheduleFormat.Weekly} (the ${expected.weekOfMonth} ${expected.dayOfWeek}).`,
        );
    }
    if (!exactly(weeks, expected.weekOfMonth) || !exactly(days, expected.dayOfWeek)) {
        violations.push(
            `the monthly backup is taken on weeks ${shown(weeks)}, days ${shown(days)}; the policy requires the ${expected.weekOfMonth} ${expected.dayOfWeek} of each month.`,
        );
    }
    if (count !== expected.monthlyRetentionMonths || unit !== RetentionDurationType.Months) {
        violations.push(
            `monthly retention (${base}.retentionDuration) is ${duration(count, unit)}; the policy requires ${expected.monthlyRetentionMonths} ${RetentionDurationType.Months}.`,
        );
    }
    return violations;
}

/** Marks the rule not applicable to protection policies of other workloads (VMs, SQL, ...). */
function azureFilesOnly(props: unknown, args: { notApplicable(reason?: string): never }): void {
    const type = valueAt(props, ["properties", "backupManagementType"]);
    if (type !== azureFilesBackupManagementType) {
        args.notApplicable(
            `Only AzureFileShare protection policies (properties.backupManagementType = ${azureFilesBackupManagementType}).`,
        );
    }
}

export const fileShareBackupDailySchedule = backupRule<ResourceValidationPolicy>([backupPolicy.fileShares.schedule], {
    name: "file-share-backup-daily-schedule",
    description: `AzureFileShare protection policy backs the shares up once a day (schedulePolicy.scheduleRunFrequency = ${ScheduleRunType.Daily}, one run time).`,
    validateResource: validateResourceOfType(ProtectionPolicy, (policy, args, reportViolation) => {
        azureFilesOnly(policy, args);
        dailyScheduleViolations(policy, (p, v) => record(args, args.urn, p, v)).forEach((m) => reportViolation(m));
    }),
});

export const fileShareBackupDailyRetention = backupRule<ResourceValidationPolicy>(
    [backupPolicy.fileShares.dailyRetentionDays],
    {
        name: "file-share-backup-daily-retention",
        description:
            `AzureFileShare protection policy keeps the daily backups ${dailyDefaults.dailyRetentionDays} days ` +
            "(dailySchedule.retentionDuration of vaultRetentionPolicy.vaultRetention, vault-standard tier, or of retentionPolicy, snapshot tier).",
        configSchema: configSchema(dailyDefaults, {
            dailyRetentionDays: {
                type: "integer",
                minimum: 1,
                description: "Days each daily file share backup is kept",
            },
        }),
        validateResource: validateResourceOfType(ProtectionPolicy, (policy, args, reportViolation) => {
            azureFilesOnly(policy, args);
            const expected = settings(args, dailyDefaults);
            dailyRetentionViolations(policy, expected, (p, v) => record(args, args.urn, p, v)).forEach((m) =>
                reportViolation(m),
            );
        }),
    },
);

export const fileShareBackupMonthlyRetention = backupRule<ResourceValidationPolicy>(
    [backupPolicy.fileShares.monthlyAnchor, backupPolicy.fileShares.monthlyRetentionMonths],
    {
        name: "file-share-backup-monthly-retention",
        description:
            `AzureFileShare protection policy keeps the backup of the ${monthlyDefaults.weekOfMonth} ${monthlyDefaults.dayOfWeek} of each month ` +
            `${monthlyDefaults.monthlyRetentionMonths} months (monthlySchedule in Weekly format, of vaultRetentionPolicy.vaultRetention or retentionPolicy).`,
        configSchema: configSchema(monthlyDefaults, {
            weekOfMonth: {
                type: "string",
                enum: Object.values(WeekOfMonth).filter((w) => w !== WeekOfMonth.Invalid),
                description: "Week of the month of the monthly backup",
            },
            dayOfWeek: {
                type: "string",
                enum: Object.values(DayOfWeek),
                description: "Day of the week of the monthly backup",
            },
            monthlyRetentionMonths: { type: "integer", minimum: 1, description: "Months each monthly backup is kept" },
        }),
        validateResource: validateResourceOfType(ProtectionPolicy, (policy, args, reportViolation) => {
            azureFilesOnly(policy, args);
            const expected = settings(args, monthlyDefaults);
            monthlyRetentionViolations(policy, expected, (p, v) => record(args, args.urn, p, v)).forEach((m) =>
                reportViolation(m),
            );
        }),
    },
);

/**
 * The share name a protected item names: its plain `protectedItemName` as the program registers it
 * (azure-native resolves it to the system name), the part after `;` of the older `AzureFileShare;<share>`
 * form, or `properties.friendlyName` (after deployment the name is the system name `azurefileshare;<hash>`).
 */
function protectedShareNames(item: PolicyResource): string[] {
    const names: string[] = [];
    const itemName = nameOf(item, "protectedItemName");
    if (typeof itemName === "string") {
        names.push(itemName.slice(itemName.lastIndexOf(";") + 1));
    }
    const friendly = valueAt(item.props, ["properties", "friendlyName"]);
    if (typeof friendly === "string") {
        names.push(friendly);
    }
    return names;
}

/** All violations of the three protection policy rules, with the policy module's values. */
function protectionPolicyViolations(policy: PolicyResource): string[] {
    const ignore: Note = () => undefined;
    return [
        ...dailyScheduleViolations(policy.props, ignore),
        ...dailyRetentionViolations(policy.props, dailyDefaults, ignore),
        ...monthlyRetentionViolations(policy.props, monthlyDefaults, ignore),
    ];
}

/** The file-share protected items that protect this share (of this account, when it is in the stack). */
function itemsProtecting(
    share: PolicyResource,
    account: PolicyResource | undefined,
    shares: readonly PolicyResource[],
    items: readonly PolicyResource[],
): PolicyResource[] {
    return items.filter((item) => {
        // The item's name was computed from a share (known during preview), or else names it.
        const linked = shares.filter(
            (s) => dependsThrough(item, "protectedItemName", s) || dependsThrough(item, "properties", s),
        );
        const sameShare =
            linked.length > 0
                ? linked.includes(share)
                : protectedShareNames(item).some((n) => sameName(n, nameOf(share, "shareName")));
        const sameAccount =
            account === undefined ||
            dependsThrough(item, "properties", account) ||
            sameName(valueAt(item.props, ["properties", "sourceResourceId"]), valueAt(account.props, ["id"]));
        return sameShare && sameAccount;
    });
}

/** A protected item's policy must be a protection policy of this stack that meets schedule and retention. */
function checkCoveringPolicies(
    args: StackValidationArgs,
    share: PolicyResource,
    item: PolicyResource,
    policies: readonly PolicyResource[],
    reportViolation: ReportViolation,
): void {
    // The item's policyId was computed from the policy resource (known during preview), or equals its id.
    const byDependency = policies.filter((p) => dependsThrough(item, "properties", p));
    const under =
        byDependency.length > 0
            ? byDependency
            : policies.filter((p) =>
                  sameName(valueAt(item.props, ["properties", "policyId"]), valueAt(p.props, ["id"])),
              );
    recordComputed(args, share.urn, "protection policy", () => under.map((p) => nameOf(p, "policyName")));
    if (under.length === 0) {
        const policyId = valueAt(item.props, ["properties", "policyId"]);
        reportViolation(
            `${label(share)} is protected by ${label(item)} under policy ${shown(policyId)}, which is not a protection policy of this stack; its schedule and retention cannot be verified.`,
            share.urn,
        );
    }
    for (const policy of under) {
        const violations = protectionPolicyViolations(policy);
        if (violations.length > 0) {
            reportViolation(
                `${label(share)} is protected under ${label(policy)}, which does not meet the policy: ${violations.join(" ")}`,
                share.urn,
            );
        }
    }
}

export const fileShareBackupCoverage = backupRule<StackValidationPolicy>(
    [backupPolicy.fileShares.schedule, backupPolicy.fileResources],
    {
        name: "file-share-backup-coverage",
        description:
            `Every file share of the stack is an Azure Backup protected item (${azureFileShareProtectedItemType}) ` +
            "under an AzureFileShare protection policy of this stack that meets the policy's schedule and retention; " +
            "not the drill scratch share (§2.10: restored copies only, policies/lib/drillScratch.ts).",
        validateStack: (args, reportViolation) => {
            const shares = args.resources.filter((r) => r.isType(FileShare));
            if (shares.length === 0) {
                args.notApplicable("The stack has no Azure file share.");
            }
            const accounts = args.resources.filter((r) => r.isType(StorageAccount));
            const policies = args.resources.filter((r) => r.isType(ProtectionPolicy));
            const items = args.resources.filter(
                (r) =>
                    r.isType(ProtectedItem) &&
                    valueAt(r.props, ["properties", "protectedItemType"]) === azureFileShareProtectedItemType,
            );
            for (const share of shares) {
                if (isDrillScratchShare(share, args.resources)) {
                    record(args, share.urn, "drill scratch share (§2.10)", "exempt: holds restored copies only");
                    continue;
                }
                const account = accounts.find((a) => refersTo(share, "accountName", a, ["accountName", "name"]));
                const covering = itemsProtecting(share, account, shares, items);
                recordComputed(args, share.urn, "protected item", () =>
                    covering.map((i) => nameOf(i, "protectedItemName")),
                );
                if (covering.length === 0) {
                    reportViolation(
                        `${label(share)} is not backed up: no ${azureFileShareProtectedItemType} in this stack protects it.`,
                        share.urn,
                    );
                    continue;
                }
                for (const item of covering) {
                    checkCoveringPolicies(args, share, item, policies, reportViolation);
                }
            }
        },
    },
);

export const fileShareBackupRules = [
    fileShareBackupDailySchedule,
    fileShareBackupDailyRetention,
    fileShareBackupMonthlyRetention,
    fileShareBackupCoverage,
];
