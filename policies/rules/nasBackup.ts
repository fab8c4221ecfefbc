/**
 * NAS backups (§2.5.1.1 for prod/trial, §2.5.1.2 for staging): Kubernetes CronJobs and, on Azure,
 * Container Apps Jobs, each declaring its target and retention per components/kubernetes/nasBackupContract.ts
 * (policies/lib/nasJobs.ts reads both). Until a stack has a NAS backup job, the coverage rule reports
 * itself not applicable with a reason ("not evidenced"), it never claims coverage.
 */
import { type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import { FileShare } from "@pulumi/azure-native/storage/fileShare";
import { backupPolicy } from "../../components/policy";
import { firesOncePerBerlinDay } from "../../components/azure/nasJobSchedule";
import {
    coversTarget,
    fileResourceClaimAnnotation,
    mountsClaimReadOnly,
    nasBackupAnnotations,
    nasBackupTargetOf,
} from "../../components/kubernetes/nasBackupContract";
import { dstChangeHour } from "../../components/kubernetes/schedule";
import {
    declarationProperty,
    nasBackupDeclarationOf,
    nasBackupMark,
    nasJobRuntimeOf,
    type NasJobRuntime,
    validateNasJob,
} from "../lib/nasJobs";
import { observe, record, shown } from "../lib/read";
import { backupRule, clausesOf, configSchema, settings } from "../lib/rule";
import { isDrillScratchShare } from "../lib/drillScratch";
import { label } from "../lib/stack";

/** The reason the coverage rule gives while a stack has no NAS backup job. */
export const noNasBackupYet =
    `No NAS backup job (${nasBackupMark}) in this stack: ` +
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
    return args.notApplicable(`Only NAS backup jobs (${nasBackupMark}).`);
}

const scheduleDefaults = { timeZone: backupPolicy.nas.timeZone.value };
const policyTimeZone = backupPolicy.nas.timeZone.value;

export const nasBackupDailySchedule = backupRule<ResourceValidationPolicy>(
    [backupPolicy.nas.schedule, backupPolicy.nas.timeZone],
    {
        name: "nas-backup-daily-schedule",
        description:
            `NAS backup job runs exactly once in every ${scheduleDefaults.timeZone} day. CronJob: spec.schedule "M H * * *" ` +
            "outside 02:00–02:59 (the DST change hour), spec.timeZone, not suspended. Container Apps Job: triggerType " +
            `"Schedule", configuration.scheduleTriggerConfig.cronExpression "M H * * *" evaluated in UTC at a time that falls ` +
            `once in every ${policyTimeZone} day, summer and winter (22:00–22:59 UTC does not).`,
        configSchema: configSchema(scheduleDefaults, {
            timeZone: {
                type: "string",
                description: `IANA time zone of the CronJobs' spec.timeZone (Container Apps Jobs run in UTC and are checked against ${policyTimeZone})`,
            },
        }),
        validateResource: validateNasJob({
            cronJob: (cronJob, args, reportViolation) => {
                if (nasBackupDeclarationOf("cronjob", cronJob) === undefined) {
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
                } else if (schedule.trim().split(/\s+/)[1] === String(dstChangeHour)) {
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
            },
            containerAppsJob: (job, args, reportViolation) => {
                if (nasBackupDeclarationOf("container-apps-job", job) === undefined) {
                    notNasBackup(args);
                }
                const trigger = observe(args, job, "configuration", "triggerType");
                const cron = observe(args, job, "configuration", "scheduleTriggerConfig", "cronExpression");
                if (trigger !== "Schedule") {
                    reportViolation(
                        `configuration.triggerType is ${shown(trigger)}; a NAS backup job requires "Schedule".`,
                    );
                }
                if (typeof cron !== "string" || !isDailyCron(cron)) {
                    reportViolation(
                        `configuration.scheduleTriggerConfig.cronExpression is ${shown(cron)}; the policy requires a daily schedule "M H * * *" (UTC).`,
                    );
                } else if (!firesOncePerBerlinDay(cron)) {
                    reportViolation(
                        `configuration.scheduleTriggerConfig.cronExpression is ${shown(cron)}; Container Apps evaluates it in UTC, ` +
                            `and that time falls twice or not at all in a ${policyTimeZone} day on the DST changes: choose a UTC time that falls once in every ${policyTimeZone} day.`,
                    );
                }
            },
        }),
    },
);

const retentionDefaults = {
    dailyRetentionDays: backupPolicy.nas.dailyRetentionDays.value,
    monthlyRetentionMonths: backupPolicy.nas.monthlyRetentionMonths.value,
    monthlyAnchorDayOfMonth: backupPolicy.nas.monthlyAnchorDayOfMonth.value,
};

type RetentionSettings = typeof retentionDefaults;

/** Checks a NAS backup job's declared retention against the policy's (or the configured) values. */
function checkRetention(
    runtime: NasJobRuntime,
    props: unknown,
    args: Parameters<typeof settings>[0] & { urn: string; notApplicable(reason?: string): never },
    reportViolation: (message: string) => void,
): void {
    const declaration = nasBackupDeclarationOf(runtime, props);
    if (declaration === undefined) {
        return notNasBackup(args);
    }
    const expected: RetentionSettings = settings(args, retentionDefaults);
    const at = (key: keyof RetentionSettings) => declarationProperty(runtime, key);
    for (const key of Object.keys(retentionDefaults) as (keyof RetentionSettings)[]) {
        record(args, args.urn, at(key), declaration[key]);
    }
    for (const key of ["dailyRetentionDays", "monthlyAnchorDayOfMonth"] as const) {
        if (declaration[key] !== expected[key]) {
            reportViolation(`${at(key)} is ${shown(declaration[key])}; the policy requires ${expected[key]}.`);
        }
    }
    const months = declaration.monthlyRetentionMonths;
    if (months === undefined || months < expected.monthlyRetentionMonths) {
        reportViolation(
            `${at("monthlyRetentionMonths")} is ${shown(months)}; the policy requires at least ${expected.monthlyRetentionMonths}.`,
        );
    }
}

export const nasBackupRetention = backupRule<ResourceValidationPolicy>(
    [
        backupPolicy.nas.dailyRetentionDays,
        backupPolicy.nas.monthlyAnchorDayOfMonth,
        backupPolicy.nas.monthlyRetentionMonths,
    ],
    {
        name: "nas-backup-retention",
        description:
            `NAS backup job keeps daily backups ${retentionDefaults.dailyRetentionDays} days and the backup of day ` +
            `${retentionDefaults.monthlyAnchorDayOfMonth} of each month at least ${retentionDefaults.monthlyRetentionMonths} months ` +
            `(CronJob annotations, Container Apps Job tags: ${nasBackupAnnotations.dailyRetentionDays}, ${nasBackupAnnotations.monthlyAnchorDayOfMonth}, ${nasBackupAnnotations.monthlyRetentionMonths}; "/" is ":" in tag names).`,
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
        validateResource: validateNasJob({
            cronJob: (cronJob, args, reportViolation) => checkRetention("cronjob", cronJob, args, reportViolation),
            containerAppsJob: (job, args, reportViolation) =>
                checkRetention("container-apps-job", job, args, reportViolation),
        }),
    },
);

export const nasBackupCoverage = backupRule<StackValidationPolicy>(
    [backupPolicy.nas.schedule, backupPolicy.fileResources],
    {
        name: "nas-backup-coverage",
        description:
            "Every database and every file share of the stack is backed up by a NAS backup job (CronJob or Container Apps Job) " +
            `declaring it as its target (${nasBackupAnnotations.targetKind} and ${nasBackupAnnotations.targetName}); ` +
            `a file resource in an existing claim (marked ${fileResourceClaimAnnotation}) only by a CronJob that also mounts that claim read-only in its namespace. ` +
            "Not the drill scratch share (§2.10: restored copies only, policies/lib/drillScratch.ts). " +
            "Not applicable (not evidenced) while the stack has no NAS backup job.",
        validateStack: (args, reportViolation) => {
            const targets = args.resources.flatMap((r) => {
                const target = nasBackupTargetOf(r.type, r.props);
                return target === undefined ? [] : [{ resource: r, target }];
            });
            const jobs = args.resources.flatMap((r) => {
                const runtime = nasJobRuntimeOf(r.type);
                const declaration = runtime === undefined ? undefined : nasBackupDeclarationOf(runtime, r.props);
                return declaration === undefined ? [] : [{ resource: r, declaration }];
            });
            if (targets.length === 0) {
                args.notApplicable("The stack has no database or file share.");
            }
            if (jobs.length === 0) {
                args.notApplicable(noNasBackupYet);
            }
            for (const { resource, declaration } of jobs) {
                if (declaration.kind === undefined || declaration.name === undefined) {
                    reportViolation(
                        `${label(resource)} is a NAS backup job without a target (${nasBackupAnnotations.targetKind}, ${nasBackupAnnotations.targetName}).`,
                        resource.urn,
                    );
                }
            }
            for (const { resource, target } of targets) {
                if (resource.isType(FileShare) && isDrillScratchShare(resource, args.resources)) {
                    record(args, resource.urn, "drill scratch share (§2.10)", "exempt: holds restored copies only");
                    continue;
                }
                const covering = jobs.filter(
                    (c) =>
                        coversTarget(c.declaration, target) &&
                        (target.claim === undefined || mountsClaimReadOnly(c.resource.props, target.claim)),
                );
                record(
                    args,
                    resource.urn,
                    "NAS backup job",
                    covering.map((c) => c.resource.name),
                );
                if (covering.length === 0) {
                    const claim = target.claim
                        ? ` and mounting claim ${shown(target.claim.name)} read-only in namespace ${shown(target.claim.namespace)}`
                        : "";
                    reportViolation(
                        `${label(resource)} (${target.kind} ${shown(target.name)}) has no NAS backup job declaring it as its target${claim}.`,
                        resource.urn,
                    );
                }
            }
        },
    },
);

export const nasBackupRules = [nasBackupDailySchedule, nasBackupRetention, nasBackupCoverage];
