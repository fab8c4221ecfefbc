/**
 * When the NAS backup Container Apps Jobs of prod/trial run and how long they may take (§2.5.1.1,
 * §2.10, §2.13).
 *
 * Container Apps evaluates `scheduleTriggerConfig.cronExpression` in UTC; it has no time-zone field.
 * The policy counts "daily" in the company's calendar (Europe/Berlin, §2.13.1), which is UTC+1 in winter
 * and UTC+2 in summer. A daily UTC time whose Berlin date is the same under both offsets (00:00–21:59
 * and 23:00–23:59 UTC) falls exactly once in every Berlin day; 22:00–22:59 UTC is 23:xx in winter but
 * 00:xx of the next day in summer, so the day of the spring change gets no backup and the day of the
 * autumn change two. `firesOncePerBerlinDay` decides it; test/azure/nasJobSchedule.test.ts proves it by
 * walking every day across the DST changes of several years.
 *
 * The order and spacing of backup, prune, verify and drill are those of the Kubernetes CronJobs
 * (components/kubernetes/schedule.ts), counted in UTC, where no hour is skipped or repeated.
 */
import { DateTime } from "luxon";
import { backupPolicy } from "../policy";
import {
    cronExpressions,
    jobBounds,
    operationTimes,
    parseTimeOfDay,
    type NasOperation,
    type TimeOfDay,
} from "../kubernetes/schedule";

export type { NasOperation, TimeOfDay };

const minutesPerDay = 24 * 60;

/** The UTC offsets (minutes) the policy's time zone uses in a year: winter and summer time. */
function policyZoneOffsets(): readonly number[] {
    const zone = backupPolicy.nas.timeZone.value;
    const year = 2025;
    const offsets = [1, 7].map((month) => DateTime.fromObject({ year, month, day: 1 }, { zone }).offset);
    return [...new Set(offsets)];
}

/** Days a daily UTC time is ahead in the policy's calendar under `offset` (0 or 1; -1 west of UTC). */
function dateShift(time: TimeOfDay, offset: number): number {
    return Math.floor((time.hour * 60 + time.minute + offset) / minutesPerDay);
}

/** Whether a daily run at `time` UTC falls exactly once in every Europe/Berlin calendar day. */
export function utcTimeFallsOncePerPolicyDay(time: TimeOfDay): boolean {
    const shifts = policyZoneOffsets().map((offset) => dateShift(time, offset));
    return shifts.every((shift) => shift === shifts[0]);
}

/**
 * Whether a cron expression evaluated in UTC (as Container Apps does) fires exactly once in every
 * Europe/Berlin calendar day: a daily "M H * * *" with a single minute and hour whose Berlin date does
 * not move between winter and summer time. Anything else (lists, ranges, steps, other days) is false.
 */
export function firesOncePerBerlinDay(cronExpression: string): boolean {
    const match = /^\s*(\d{1,2})\s+(\d{1,2})\s+\*\s+\*\s+\*\s*$/.exec(cronExpression);
    if (!match) {
        return false;
    }
    const time = { minute: Number(match[1]), hour: Number(match[2]) };
    return time.minute <= 59 && time.hour <= 23 && utcTimeFallsOncePerPolicyDay(time);
}

const pad = (n: number) => String(n).padStart(2, "0");

/** The allowed UTC backup times as ranges, e.g. "00:00–21:59, 23:00–23:59" (derived, not typed). */
export function allowedUtcBackupTimes(): string {
    const ranges: string[] = [];
    let start: number | undefined;
    for (let minute = 0; minute <= minutesPerDay; minute++) {
        const allowed =
            minute < minutesPerDay &&
            utcTimeFallsOncePerPolicyDay({ hour: Math.floor(minute / 60), minute: minute % 60 });
        if (allowed && start === undefined) {
            start = minute;
        } else if (!allowed && start !== undefined) {
            const end = minute - 1;
            ranges.push(
                `${pad(Math.floor(start / 60))}:${pad(start % 60)}–${pad(Math.floor(end / 60))}:${pad(end % 60)}`,
            );
            start = undefined;
        }
    }
    return ranges.join(", ");
}

/** Why a daily UTC backup time is refused, or `undefined` when it is allowed. */
export function utcBackupTimeProblem(value: unknown): string | undefined {
    const allowed = `a time "HH:MM" in UTC within ${allowedUtcBackupTimes()} (falls exactly once in every ${backupPolicy.nas.timeZone.value} day, summer and winter)`;
    if (typeof value !== "string") {
        return value === undefined ? `is missing; required: ${allowed}` : `is not valid; allowed: ${allowed}`;
    }
    try {
        if (utcTimeFallsOncePerPolicyDay(parseTimeOfDay(value, "time"))) {
            return undefined;
        }
        return `${value} UTC falls twice or not at all in a ${backupPolicy.nas.timeZone.value} day on the DST changes; allowed: ${allowed}`;
    } catch {
        return `${JSON.stringify(value)} is not valid; allowed: ${allowed}`;
    }
}

/** Parses a daily UTC backup time; throws an error naming `key`, the value and the allowed times. */
export function parseUtcBackupTime(value: string, key: string): TimeOfDay {
    const problem = utcBackupTimeProblem(value);
    if (problem !== undefined) {
        throw new Error(`${key}: ${problem}`);
    }
    return parseTimeOfDay(value, key);
}

/** UTC cron expressions of the four operations of a target, spaced as on Kubernetes (no hour skipped in UTC). */
export function utcNasSchedules(backupTime: TimeOfDay): Readonly<Record<NasOperation, string>> {
    return cronExpressions(operationTimes(backupTime));
}

/** A Container Apps Job's bounds: seconds a replica may run, and retries of a failed replica. */
export interface ContainerAppsJobBounds {
    readonly replicaTimeout: number;
    readonly replicaRetryLimit: number;
}

/**
 * The Kubernetes bounds as Container Apps Job bounds: the same retries, and each attempt's timeout a
 * share of the Job's active deadline, so that all attempts together end within it and the spacing of
 * `utcNasSchedules` keeps the operations of a target apart. The drill has no retry: it fails when it
 * takes longer than the RTO.
 */
export const containerAppsJobBounds: Readonly<Record<NasOperation, ContainerAppsJobBounds>> = Object.freeze(
    Object.fromEntries(
        (Object.keys(jobBounds) as NasOperation[]).map((operation) => {
            const { activeDeadlineSeconds, backoffLimit } = jobBounds[operation];
            const replicaTimeout = Math.floor(activeDeadlineSeconds / (backoffLimit + 1));
            return [operation, { replicaTimeout, replicaRetryLimit: backoffLimit }];
        }),
    ) as Record<NasOperation, ContainerAppsJobBounds>,
);

/**
 * Start hours (UTC) of a one-hour maintenance window of the Flexible Server that would overlap a
 * database's NAS backup starting daily at `backupTime`: the backup job is the only NAS job that connects
 * to the server (prune touches only the NAS, verify and the drill restore into their own scratch server),
 * and it runs at most replicaTimeout × (replicaRetryLimit + 1) after its start. In the order of the run.
 */
export function maintenanceHoursOverlappingBackupUtc(backupTime: TimeOfDay): number[] {
    const { replicaTimeout, replicaRetryLimit } = containerAppsJobBounds.backup;
    const day = 24 * 60;
    const start = backupTime.hour * 60 + backupTime.minute;
    const end = start + Math.ceil((replicaTimeout * (replicaRetryLimit + 1)) / 60);
    const overlaps = (windowStart: number) =>
        [-day, 0, day].some((shift) => windowStart + shift < end && start < windowStart + shift + 60);
    // in the order of the run: from the backup's own hour on
    const byRun = Array.from({ length: 24 }, (_, i) => (backupTime.hour + i) % 24);
    return byRun.filter((hour) => overlaps(hour * 60));
}
