/**
 * When the NAS CronJobs run and how long they may take (§2.5.1.1, §2.5.1.2, §2.10, §2.13).
 *
 * Every schedule counts in the policy's time zone (`spec.timeZone`). In Europe/Berlin the hour
 * 02:00–02:59 is skipped on the spring change and repeated on the autumn change, so no job starts
 * then: a backup at such a time would run twice or not at all on those days.
 *
 * The jobs of one target must not overlap: `restic prune` and `restic check` take an exclusive lock
 * on the repository. Each job starts after the previous one's latest possible end (its starting
 * deadline plus its active deadline) plus one hour for the short day of the spring change.
 */
import { backupPolicy } from "../policy";

/** The operations the component schedules per target. */
export type NasOperation = "backup" | "prune" | "verify" | "drill";

export interface JobBounds {
    /** How late a missed start may still happen (controller down, node pressure). */
    readonly startingDeadlineSeconds: number;
    /** The Job (all its retries) is stopped after this long: a hung run never blocks the next day's. */
    readonly activeDeadlineSeconds: number;
    /** Pod retries within the active deadline. */
    readonly backoffLimit: number;
}

const hour = 3600;

/** Bounds per operation; each job ends well within a day, so the next day's run always starts. */
export const jobBounds: Readonly<Record<NasOperation, JobBounds>> = Object.freeze({
    backup: { startingDeadlineSeconds: hour, activeDeadlineSeconds: 4 * hour, backoffLimit: 2 },
    prune: { startingDeadlineSeconds: hour, activeDeadlineSeconds: 2 * hour, backoffLimit: 1 },
    verify: { startingDeadlineSeconds: hour, activeDeadlineSeconds: 3 * hour, backoffLimit: 0 },
    // The drill itself fails when it takes longer than the RTO; the half hour is the scratch server's start.
    drill: {
        startingDeadlineSeconds: hour,
        activeDeadlineSeconds: backupPolicy.rtoHours.value * hour + hour / 2,
        backoffLimit: 0,
    },
});

/** A wall-clock time of day in the policy's time zone. */
export interface TimeOfDay {
    readonly hour: number;
    readonly minute: number;
}

/** The hour that is skipped or repeated on DST changes in Europe/Berlin. */
export const dstChangeHour = 2;

/** Parses "HH:MM" (00:00–23:59); the error names `key`, the value and the allowed form. */
export function parseTimeOfDay(value: string, key: string): TimeOfDay {
    const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
    if (!match) {
        throw new Error(`${key} is ${JSON.stringify(value)}; expected a time "HH:MM" (00:00–23:59).`);
    }
    return { hour: Number(match[1]), minute: Number(match[2]) };
}

/** Parses "HH:MM"; refuses anything else and the DST change hour (it exists 0 or 2 times on some days). */
export function parseDailyTime(value: string, key = "dailyBackupTime"): TimeOfDay {
    const time = parseTimeOfDay(value, key);
    if (time.hour === dstChangeHour) {
        throw new Error(
            `${key} is ${JSON.stringify(value)}; 02:00–02:59 is skipped or repeated on DST changes in ` +
                `${backupPolicy.nas.timeZone.value}: choose a time outside it.`,
        );
    }
    return time;
}

/** `time` plus whole hours, moved past `skipHour` when it lands in it. */
function later(time: TimeOfDay, hours: number, skipHour: number | undefined): TimeOfDay {
    const next = (time.hour + hours) % 24;
    return { hour: next === skipHour ? next + 1 : next, minute: time.minute };
}

/** Whole hours from an operation's start to the next one's: its latest possible end plus one hour. */
export function gapAfter(operation: NasOperation): number {
    const { startingDeadlineSeconds, activeDeadlineSeconds } = jobBounds[operation];
    return Math.ceil((startingDeadlineSeconds + activeDeadlineSeconds) / hour) + 1;
}

/** Day of the month of the restore drill (§2.10: at least quarterly by the TOMs; this is monthly). */
export const drillDayOfMonth = 15;

/**
 * Start times of the four operations of a target: the backup at `backupTime`, each further one after
 * the previous one's latest end (`gapAfter`). `skipHour` is an hour no operation may start in (the DST
 * change hour when the clock is Europe/Berlin; none in UTC).
 */
export function operationTimes(backupTime: TimeOfDay, skipHour?: number): Readonly<Record<NasOperation, TimeOfDay>> {
    const prune = later(backupTime, gapAfter("backup"), skipHour);
    const verify = later(prune, gapAfter("prune"), skipHour);
    const drill = later(verify, gapAfter("verify"), skipHour);
    return { backup: backupTime, prune, verify, drill };
}

/** Cron expressions of the operations: daily, the drill monthly on `drillDayOfMonth`. */
export function cronExpressions(
    times: Readonly<Record<NasOperation, TimeOfDay>>,
): Readonly<Record<NasOperation, string>> {
    const daily = (t: TimeOfDay) => `${t.minute} ${t.hour} * * *`;
    return {
        backup: daily(times.backup),
        prune: daily(times.prune),
        verify: daily(times.verify),
        drill: `${times.drill.minute} ${times.drill.hour} ${drillDayOfMonth} * *`,
    };
}

/** Cron expressions (in the policy's time zone) of the four operations of a target. */
export function nasSchedules(backupTime: TimeOfDay): Readonly<Record<NasOperation, string>> {
    return cronExpressions(operationTimes(backupTime, dstChangeHour));
}
