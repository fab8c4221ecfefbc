import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import {
    allowedUtcBackupTimes,
    containerAppsJobBounds,
    firesOncePerBerlinDay,
    parseUtcBackupTime,
    utcBackupTimeProblem,
    utcNasSchedules,
} from "../../components/azure/nasJobSchedule";
import { jobBounds } from "../../components/kubernetes/schedule";
import { backupPolicy } from "../../components/policy";

const zone = backupPolicy.nas.timeZone.value;
const years = { from: 2024, to: 2031 };

/**
 * How often a daily run at hour:minute UTC falls into each Europe/Berlin calendar day, counted by
 * firing it on every UTC day of the years (plus one day either side) and converting each firing to
 * a Berlin date with Luxon's time-zone data.
 */
function firingsPerBerlinDay(hour: number, minute: number): Map<string, number> {
    const counts = new Map<string, number>();
    const first = DateTime.utc(years.from, 1, 1).minus({ days: 1 });
    const last = DateTime.utc(years.to, 12, 31).plus({ days: 1 });
    for (let day = first; day <= last; day = day.plus({ days: 1 })) {
        const berlinDate = day.set({ hour, minute }).setZone(zone).toISODate() as string;
        counts.set(berlinDate, (counts.get(berlinDate) ?? 0) + 1);
    }
    return counts;
}

/** Every Berlin calendar day of the years, as ISO dates. */
function berlinDays(): string[] {
    const days: string[] = [];
    for (
        let day = DateTime.fromObject({ year: years.from }, { zone });
        day.year <= years.to;
        day = day.plus({ days: 1 })
    ) {
        days.push(day.toISODate() as string);
    }
    return days;
}

const allBerlinDays = berlinDays();

function daysNotFiringOnce(hour: number, minute: number): string[] {
    const counts = firingsPerBerlinDay(hour, minute);
    return allBerlinDays.filter((day) => counts.get(day) !== 1);
}

describe("a daily Container Apps cron (UTC) in the policy's Europe/Berlin calendar", () => {
    it("walks days that include both DST changes of every year", () => {
        const days = allBerlinDays;
        const offsetsChange = days.filter((day, i) => {
            const next = days[i + 1];
            return (
                next !== undefined && DateTime.fromISO(day, { zone }).offset !== DateTime.fromISO(next, { zone }).offset
            );
        });
        expect(offsetsChange).toHaveLength(2 * (years.to - years.from + 1));
    });

    it("firesOncePerBerlinDay agrees with the walk for every hour and several minutes", () => {
        for (let hour = 0; hour < 24; hour++) {
            for (const minute of [0, 59]) {
                const missed = daysNotFiringOnce(hour, minute);
                expect({ hour, minute, onceEveryDay: firesOncePerBerlinDay(`${minute} ${hour} * * *`) }).toEqual({
                    hour,
                    minute,
                    onceEveryDay: missed.length === 0,
                });
            }
        }
    });

    it("00:00–21:59 UTC fires once every Berlin day; 22:00–22:59 UTC misses the spring change day and doubles the autumn one", () => {
        for (let hour = 0; hour <= 21; hour++) {
            expect(firesOncePerBerlinDay(`0 ${hour} * * *`)).toBe(true);
            expect(firesOncePerBerlinDay(`59 ${hour} * * *`)).toBe(true);
        }
        expect(firesOncePerBerlinDay("0 22 * * *")).toBe(false);
        expect(firesOncePerBerlinDay("59 22 * * *")).toBe(false);
        const counts = firingsPerBerlinDay(22, 30);
        expect(counts.get("2025-03-30")).toBeUndefined(); // spring change: no run that Berlin day
        expect(counts.get("2025-10-26")).toBe(2); // autumn change: two runs
    });

    it("is false for anything that is not one run a day", () => {
        for (const cron of ["0 3 15 * *", "0 3 * * 1", "0 3,4 * * *", "*/5 * * * *", "0 24 * * *", "60 3 * * *", ""]) {
            expect(firesOncePerBerlinDay(cron)).toBe(false);
        }
    });
});

describe("the configured UTC backup time", () => {
    it("lists the allowed times derived from the time zone", () => {
        expect(allowedUtcBackupTimes()).toBe("00:00–21:59, 23:00–23:59");
    });

    it("is refused outside them, the error naming the key, the value and the allowed times", () => {
        expect(() => parseUtcBackupTime("22:15", "nasBackup.dailyBackupTimeUtc")).toThrow(
            /^nasBackup\.dailyBackupTimeUtc: 22:15 UTC falls twice or not at all .*allowed: .*00:00–21:59, 23:00–23:59/,
        );
        expect(utcBackupTimeProblem("7:00")).toMatch(/"7:00" is not valid; allowed: a time "HH:MM" in UTC/);
        expect(utcBackupTimeProblem(undefined)).toMatch(/^is missing; required/);
        expect(parseUtcBackupTime("23:30", "k")).toEqual({ hour: 23, minute: 30 });
    });
});

describe("the UTC schedules of a target's operations", () => {
    it("place prune, verify and drill after the previous one's latest end, within the day", () => {
        const schedules = utcNasSchedules({ hour: 23, minute: 30 });
        expect(schedules.backup).toBe("30 23 * * *");
        // Kubernetes spacing: backup 1 h start + 4 h run + 1 h, prune 1 + 2 + 1, verify 1 + 3 + 1; no hour skipped in UTC.
        expect(schedules.prune).toBe("30 5 * * *");
        expect(schedules.verify).toBe("30 9 * * *");
        expect(schedules.drill).toBe("30 14 15 * *");
        // The drill's latest end is before the next backup.
        const { startingDeadlineSeconds, activeDeadlineSeconds } = jobBounds.drill;
        expect(14.5 + (startingDeadlineSeconds + activeDeadlineSeconds) / 3600).toBeLessThan(23.5 + 24);
    });

    it("bound every Container Apps Job execution, all retries included, by the Kubernetes active deadline", () => {
        for (const [operation, bounds] of Object.entries(containerAppsJobBounds)) {
            const k8s = jobBounds[operation as keyof typeof jobBounds];
            expect(bounds.replicaRetryLimit).toBe(k8s.backoffLimit);
            expect(bounds.replicaTimeout * (bounds.replicaRetryLimit + 1)).toBeLessThanOrEqual(
                k8s.activeDeadlineSeconds,
            );
            expect(bounds.replicaTimeout).toBeGreaterThanOrEqual(3600);
        }
        expect(containerAppsJobBounds.drill.replicaTimeout).toBeGreaterThanOrEqual(backupPolicy.rtoHours.value * 3600);
    });
});
