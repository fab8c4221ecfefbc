/**
 * NAS backups (§2.5.1.1 for prod/trial, §2.5.1.2 for staging): Kubernetes CronJobs shaped per
 * components/kubernetes/nasBackupContract.ts. The CronJob component arrives with its own issue; until
 * a stack has a NAS backup CronJob, the coverage rule reports itself not applicable with a reason
 * ("not evidenced"), it never claims coverage.
 */
import { type ResourceValidationPolicy, type StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { CronJob } from "@pulumi/kubernetes/batch/v1/cronJob";
import { backupPolicy } from "../../components/policy";
import {
    coversTarget,
    fileResourceClaimAnnotation,
    mountsClaimReadOnly,
    nasBackupAnnotations,
    nasBackupLabel,
    nasBackupTargetOf,
    readNasBackupDeclaration,
} from "../../components/kubernetes/nasBackupContract";
import { dstChangeHour } from "../../components/kubernetes/schedule";
import { observe, record, shown, valueAt } from "../lib/read";
import { backupRule, clausesOf, configSchema, settings } from "../lib/rule";
import { label } from "../lib/stack";

/** The reason the coverage rule gives while a stack has no NAS backup CronJob. */
export const noNasBackupYet =
    `No NAS backup CronJob (label ${nasBackupLabel.key}=${nasBackupLabel.value}) in this stack: ` +
    `NAS coverage of databases and file resources (${clausesOf([backupPolicy.nas.schedule])}) is not evidenced.`;

/** True for a cron expression that runs once a day at a fixed minute and hour. */
export function isDailyCron(schedule: string): boolean {
    if (schedule.trim() === "@daily" || schedule.trim() === "@midnight") {
        return true;
    }
    const fields = schedule.trim().split(/\s+/);
    if (fields.length !== 5) {
        return false;
    }
    const [minute, hour, dayOfMonth, month, dayOfWeek] = fields;
    const within = (field: string, max: number) => /^\d+$/.test(field) && Number(field) <= max;
    return within(minute, 59) && within(hour, 23) && dayOfMonth === "*" && month === "*" && dayOfWeek === "*";
}

function notNasBackup(args: { notApplicable(reason?: string): never }): never {
    return args.notApplicable(`Only NAS backup CronJobs (label ${nasBackupLabel.key}=${nasBackupLabel.value}).`);
}

const scheduleDefaults = { timeZone: backupPolicy.nas.timeZone.value };

export const nasBackupDailySchedule = backupRule<ResourceValidationPolicy>(
    [backupPolicy.nas.schedule, backupPolicy.nas.timeZone],
    {
        name: "nas-backup-daily-schedule",
        description:
            `NAS backup CronJob runs once a day at a fixed time in ${scheduleDefaults.timeZone} ` +
            '(spec.schedule "M H * * *" outside 02:00–02:59, the DST change hour; spec.timeZone; not suspended).',
        configSchema: configSchema(scheduleDefaults, {
            timeZone: { type: "string", description: "IANA time zone in which the daily schedule is counted" },
        }),
        validateResource: validateResourceOfType(CronJob, (cronJob, args, reportViolation) => {
            if (readNasBackupDeclaration(cronJob.metadata) === undefined) {
                notNasBackup(args);
            }
            const { timeZone } = settings(args, scheduleDefaults);
            const schedule = observe(args, cronJob, "spec", "schedule");
            const zone = observe(args, cronJob, "spec", "timeZone");
            const suspended = observe(args, cronJob, "spec", "suspend");
            if (typeof schedule !== "string" || !isDailyCron(schedule)) {
                reportViolation(
                    `spec.schedule is ${shown(schedule)}; the policy requires a daily schedule "M H * * *".`,
                );
            }
            if (
                typeof schedule === "string" &&
                isDailyCron(schedule) &&
                schedule.trim().split(/\s+/)[1] === String(dstChangeHour)
            ) {
                reportViolation(
                    `spec.schedule is ${shown(schedule)}; ${dstChangeHour}:00–${dstChangeHour}:59 is skipped or repeated on DST changes in ${timeZone}: the backup would run twice or not at all.`,
                );
            }
            if (zone !== timeZone) {
                reportViolation(`spec.timeZone is ${shown(zone)}; the policy requires ${timeZone}.`);
            }
            if (suspended === true) {
                reportViolation("spec.suspend is true; a suspended CronJob takes no backups.");
            }
        }),
    },
);

const retentionDefaults = {
    dailyRetentionDays: backupPolicy.nas.dailyRetentionDays.value,
    monthlyRetentionMonths: backupPolicy.nas.monthlyRetentionMonths.value,
    monthlyAnchorDayOfMonth: backupPolicy.nas.monthlyAnchorDayOfMonth.value,
};

export const nasBackupRetention = backupRule<ResourceValidationPolicy>(
    [
        backupPolicy.nas.dailyRetentionDays,
        backupPolicy.nas.monthlyAnchorDayOfMonth,
        backupPolicy.nas.monthlyRetentionMonths,
    ],
    {
        name: "nas-backup-retention",
        description:
            `NAS backup CronJob keeps daily backups ${retentionDefaults.dailyRetentionDays} days and the backup of day ` +
            `${retentionDefaults.monthlyAnchorDayOfMonth} of each month at least ${retentionDefaults.monthlyRetentionMonths} months ` +
            `(annotations ${nasBackupAnnotations.dailyRetentionDays}, ${nasBackupAnnotations.monthlyAnchorDayOfMonth}, ${nasBackupAnnotations.monthlyRetentionMonths}).`,
        configSchema: configSchema(retentionDefaults, {
            dailyRetentionDays: { type: "integer", minimum: 1, description: "Days each daily NAS backup is kept" },
            monthlyRetentionMonths: {
                type: "integer",
                minimum: 1,
                description: "Minimum months each monthly NAS backup is kept",
            },
            monthlyAnchorDayOfMonth: {
                type: "integer",
                minimum: 1,
                maximum: 28,
                description: "Day of the month whose backup becomes the monthly one",
            },
        }),
        validateResource: validateResourceOfType(CronJob, (cronJob, args, reportViolation) => {
            const declaration = readNasBackupDeclaration(cronJob.metadata);
            if (declaration === undefined) {
                return notNasBackup(args);
            }
            const expected = settings(args, retentionDefaults);
            const at = (key: keyof typeof nasBackupAnnotations) =>
                `metadata.annotations["${nasBackupAnnotations[key]}"]`;
            record(args, args.urn, at("dailyRetentionDays"), declaration.dailyRetentionDays);
            record(args, args.urn, at("monthlyAnchorDayOfMonth"), declaration.monthlyAnchorDayOfMonth);
            record(args, args.urn, at("monthlyRetentionMonths"), declaration.monthlyRetentionMonths);
            if (declaration.dailyRetentionDays !== expected.dailyRetentionDays) {
                reportViolation(
                    `${at("dailyRetentionDays")} is ${shown(declaration.dailyRetentionDays)}; the policy requires ${expected.dailyRetentionDays}.`,
                );
            }
            if (declaration.monthlyAnchorDayOfMonth !== expected.monthlyAnchorDayOfMonth) {
                reportViolation(
                    `${at("monthlyAnchorDayOfMonth")} is ${shown(declaration.monthlyAnchorDayOfMonth)}; the policy requires ${expected.monthlyAnchorDayOfMonth}.`,
                );
            }
            if (
                declaration.monthlyRetentionMonths === undefined ||
                declaration.monthlyRetentionMonths < expected.monthlyRetentionMonths
            ) {
                reportViolation(
                    `${at("monthlyRetentionMonths")} is ${shown(declaration.monthlyRetentionMonths)}; the policy requires at least ${expected.monthlyRetentionMonths}.`,
                );
            }
        }),
    },
);

export const nasBackupCoverage = backupRule<StackValidationPolicy>(
    [backupPolicy.nas.schedule, backupPolicy.fileResources],
    {
        name: "nas-backup-coverage",
        description:
            "Every database and every file share of the stack is backed up by a NAS backup CronJob declaring it as its target " +
            `(annotations ${nasBackupAnnotations.targetKind} and ${nasBackupAnnotations.targetName}); ` +
            `a file resource in an existing claim (marked ${fileResourceClaimAnnotation}) only by one that also mounts that claim read-only in its namespace. ` +
            "Not applicable (not evidenced) while the stack has no NAS backup CronJob.",
        validateStack: (args, reportViolation) => {
            const targets = args.resources.flatMap((r) => {
                const target = nasBackupTargetOf(r.type, r.props);
                return target === undefined ? [] : [{ resource: r, target }];
            });
            const cronJobs = args.resources.flatMap((r) => {
                const declaration = r.isType(CronJob)
                    ? readNasBackupDeclaration(valueAt(r.props, ["metadata"]))
                    : undefined;
                return declaration === undefined ? [] : [{ resource: r, declaration }];
            });
            if (targets.length === 0) {
                args.notApplicable("The stack has no database or file share.");
            }
            if (cronJobs.length === 0) {
                args.notApplicable(noNasBackupYet);
            }
            for (const { resource, declaration } of cronJobs) {
                if (declaration.kind === undefined || declaration.name === undefined) {
                    reportViolation(
                        `${label(resource)} is a NAS backup CronJob without a target (annotations ${nasBackupAnnotations.targetKind}, ${nasBackupAnnotations.targetName}).`,
                        resource.urn,
                    );
                }
            }
            for (const { resource, target } of targets) {
                const covering = cronJobs.filter(
                    (c) =>
                        coversTarget(c.declaration, target) &&
                        (target.claim === undefined || mountsClaimReadOnly(c.resource.props, target.claim)),
                );
                record(
                    args,
                    resource.urn,
                    "NAS backup CronJob",
                    covering.map((c) => c.resource.name),
                );
                if (covering.length === 0) {
                    const claim = target.claim
                        ? ` and mounting claim ${shown(target.claim.name)} read-only in namespace ${shown(target.claim.namespace)}`
                        : "";
                    reportViolation(
                        `${label(resource)} (${target.kind} ${shown(target.name)}) has no NAS backup CronJob declaring it as its target${claim}.`,
                        resource.urn,
                    );
                }
            }
        },
    },
);

export const nasBackupRules = [nasBackupDailySchedule, nasBackupRetention, nasBackupCoverage];
