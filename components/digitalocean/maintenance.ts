/**
 * DigitalOcean applies upgrades to a DOKS cluster (nodes drained and replaced) and to a managed
 * database (failover, restart) inside a weekly maintenance window given in UTC. A NAS backup, prune
 * or restore drill running then may fail or be killed, so the window must not overlap any of them.
 *
 * The NAS jobs run at fixed times in Europe/Berlin (the policy's calendar), i.e. one hour before UTC
 * in winter and two in summer. The check below treats every job as running every day at both UTC
 * offsets for its whole deadline, and the window as recurring every day: strict, but it never
 * depends on which week day DigitalOcean picks ("any") or on the DST calendar.
 */
import { maintenanceWindowHours } from "./settings";

/** A NAS job: a time of day in Europe/Berlin ("HH:MM") and how long it may run. */
export interface ScheduledJob {
    /** What it is, for the message, e.g. "backup of database main". */
    readonly label: string;
    readonly time: string;
    readonly maxDurationMinutes: number;
}

const minutesPerDay = 24 * 60;
/** UTC offsets of Europe/Berlin in minutes (CET, CEST). */
const berlinUtcOffsets = [60, 120] as const;

/** "HH:MM" to minutes after midnight; undefined when it is not a valid 24-hour time. */
export function minutesOfDay(time: string): number | undefined {
    const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
    return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** True when [aStart, aStart+aLength) and [bStart, bStart+bLength) intersect on a 24-hour clock. */
function overlapsDaily(aStart: number, aLength: number, bStart: number, bLength: number): boolean {
    const delta = (((bStart - aStart) % minutesPerDay) + minutesPerDay) % minutesPerDay;
    // b starts inside a, or a starts inside b.
    return delta < aLength || minutesPerDay - delta < bLength;
}

/**
 * The jobs whose run time (at either Berlin offset) overlaps a maintenance window starting at
 * `windowStartUtc` ("HH:MM", UTC) and lasting `maintenanceWindowHours`. Empty when none does.
 */
export function jobsOverlappingMaintenance(windowStartUtc: string, jobs: readonly ScheduledJob[]): ScheduledJob[] {
    const windowStart = minutesOfDay(windowStartUtc);
    if (windowStart === undefined) {
        throw new Error(`maintenance window start ${JSON.stringify(windowStartUtc)} is not a time HH:MM`);
    }
    return jobs.filter((job) => {
        const local = minutesOfDay(job.time);
        if (local === undefined) {
            throw new Error(`${job.label}: time ${JSON.stringify(job.time)} is not a time HH:MM`);
        }
        return berlinUtcOffsets.some((offset) =>
            overlapsDaily(windowStart, maintenanceWindowHours * 60, local - offset, job.maxDurationMinutes),
        );
    });
}
