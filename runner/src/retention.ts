/**
 * The retention plan: a pure function of (snapshots, now, policy).
 *
 * §2.5.1.1/§2.5.1.2: daily backups are retained for 30 days; the backup from the 1st of each month is
 * kept for at least 6 months; the newest backup of a target is never deleted (it is the only
 * protection of a target whose backups stopped). Days and months are calendar days and months in the
 * company's time zone (§2.13.1, CET/CEST).
 */
import { backupPolicy, type BackupPolicy } from "../../components/policy";
import {
    addMonths,
    calendarDaysBetween,
    civilDate,
    dayNumber,
    formatCivilDate,
    monthKey,
    type CivilDate,
} from "./calendar";
import { groupSnapshots, isComplete, isDrillRecord, latestDrill, type Backup, type ResticSnapshot } from "./snapshots";

export interface RetentionPolicy {
    readonly timeZone: string;
    readonly dailyRetentionDays: number;
    readonly monthlyAnchorDayOfMonth: number;
    readonly monthlyRetentionMonths: number;
    /**
     * A data snapshot without manifest younger than this may belong to a backup that is still running
     * (the manifest is written right after the data). Older ones are incomplete and deleted. A backup
     * that takes longer than the RPO has failed the policy anyway, so the RPO bounds it.
     */
    readonly unfinishedGraceHours: number;
}

/** The NAS retention of the policy module. */
export function nasRetention(policy: BackupPolicy = backupPolicy): RetentionPolicy {
    return {
        timeZone: policy.nas.timeZone.value,
        dailyRetentionDays: policy.nas.dailyRetentionDays.value,
        monthlyAnchorDayOfMonth: policy.nas.monthlyAnchorDayOfMonth.value,
        monthlyRetentionMonths: policy.nas.monthlyRetentionMonths.value,
        unfinishedGraceHours: policy.rpoHours.value,
    };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export type SnapshotRole = "data" | "manifest" | "drill";

export interface Decision {
    readonly snapshotId: string;
    readonly role: SnapshotRole;
    /** Data snapshot id of the backup this snapshot belongs to (its own id for data snapshots). */
    readonly backupId: string;
    readonly time: Date;
    readonly keep: boolean;
    readonly reasons: readonly string[];
}

export interface RetentionPlan {
    readonly now: Date;
    readonly decisions: readonly Decision[];
    readonly keep: readonly Decision[];
    readonly delete: readonly Decision[];
}

/** A complete backup with its place in the retention scheme. */
export interface ClassifiedBackup extends Backup {
    readonly complete: boolean;
    /** The monthly backup of its calendar month. */
    readonly monthly: boolean;
    readonly civil: CivilDate;
}

/**
 * Marks the monthly backups: in each calendar month exactly one, the first complete backup on or after
 * the anchor day (the 1st; if the 1st failed, the next success of that month). Backups carry no
 * `monthly` tag (the runner stopped writing it in issue 13: deciding it took a snapshot listing, one
 * more restic start, at every backup); the tag of older backups is ignored: two backups started
 * together on the 1st both carried it (each saw no earlier one).
 */
export function classify(snapshots: readonly ResticSnapshot[], policy: RetentionPolicy): ClassifiedBackup[] {
    const { backups } = groupSnapshots(snapshots);
    const firstOfMonth = new Map<string, string>();
    for (const b of backups) {
        if (!isComplete(b)) continue;
        const c = civilDate(b.time, policy.timeZone);
        if (c.day < policy.monthlyAnchorDayOfMonth) continue;
        if (!firstOfMonth.has(monthKey(c))) firstOfMonth.set(monthKey(c), b.id);
    }
    return backups.map((b) => {
        const civil = civilDate(b.time, policy.timeZone);
        const complete = isComplete(b);
        return {
            ...b,
            complete,
            civil,
            monthly: complete && firstOfMonth.get(monthKey(civil)) === b.id,
        };
    });
}

/** The last calendar day on which a monthly backup must still exist. */
export function monthlyKeptThrough(b: { civil: CivilDate }, policy: RetentionPolicy): CivilDate {
    return addMonths(b.civil, policy.monthlyRetentionMonths);
}

/** Whether a backup is inside the daily retention window (calendar days and, across DST, full 24 h days). */
export function withinDailyRetention(time: Date, now: Date, policy: RetentionPolicy): boolean {
    const age = calendarDaysBetween(civilDate(time, policy.timeZone), civilDate(now, policy.timeZone));
    return age <= policy.dailyRetentionDays || now.getTime() - time.getTime() < policy.dailyRetentionDays * DAY_MS;
}

/** Why a backup without a manifest is kept (it may still be running) or deleted. */
function unfinishedReasons(b: ClassifiedBackup, now: Date, policy: RetentionPolicy): { keep: string[]; del: string[] } {
    const ageHours = (now.getTime() - b.time.getTime()) / HOUR_MS;
    return ageHours < policy.unfinishedGraceHours
        ? {
              keep: [
                  `unfinished: no manifest yet, the backup may still be running (younger than ${policy.unfinishedGraceHours} h)`,
              ],
              del: [],
          }
        : {
              keep: [],
              del: [
                  `incomplete: no manifest was written (dump or file read failed, or the runner was killed); not restorable`,
              ],
          };
}

/** Why a complete backup is kept (daily window, monthly, newest) or deleted. */
function completeReasons(
    b: ClassifiedBackup,
    now: Date,
    newest: boolean,
    policy: RetentionPolicy,
): { keep: string[]; del: string[] } {
    const keep: string[] = [];
    const del: string[] = [];
    const today = civilDate(now, policy.timeZone);
    const age = calendarDaysBetween(b.civil, today);
    if (withinDailyRetention(b.time, now, policy)) {
        keep.push(
            `daily backup, ${age} calendar day(s) old: kept ${policy.dailyRetentionDays} days (${backupPolicy.nas.dailyRetentionDays.clause})`,
        );
    }
    if (b.monthly) {
        const through = monthlyKeptThrough(b, policy);
        if (dayNumber(today) <= dayNumber(through)) {
            keep.push(
                `monthly backup of ${monthKey(b.civil)}: kept ${policy.monthlyRetentionMonths} months, through ${formatCivilDate(through)} (${backupPolicy.nas.monthlyRetentionMonths.clause})`,
            );
        } else {
            del.push(
                `monthly backup of ${monthKey(b.civil)} expired after ${formatCivilDate(through)} (${policy.monthlyRetentionMonths} months)`,
            );
        }
    }
    if (newest) keep.push("newest backup of the target: never deleted");
    if (keep.length === 0 && !b.monthly) {
        del.push(
            `daily backup ${age} calendar days old, older than ${policy.dailyRetentionDays} days and not a monthly backup`,
        );
    }
    return { keep, del };
}

export function plan(snapshots: readonly ResticSnapshot[], now: Date, policy: RetentionPolicy): RetentionPlan {
    const classified = classify(snapshots, policy);
    const newestComplete = [...classified].reverse().find((b) => b.complete);

    const decisions: Decision[] = [];
    for (const b of classified) {
        const why = b.complete
            ? completeReasons(b, now, newestComplete?.id === b.id, policy)
            : unfinishedReasons(b, now, policy);
        const keep = why.keep.length > 0;
        const reasons = keep ? why.keep : why.del;
        decisions.push({ snapshotId: b.id, role: "data", backupId: b.id, time: b.time, keep, reasons });
        if (b.manifestSnapshotId !== undefined) {
            decisions.push({
                snapshotId: b.manifestSnapshotId,
                role: "manifest",
                backupId: b.id,
                time: b.time,
                keep,
                reasons: [`manifest of ${b.shortId}: follows its backup`],
            });
        }
    }
    for (const m of groupSnapshots(snapshots).orphanManifests) {
        decisions.push({
            snapshotId: m.id,
            role: "manifest",
            backupId: m.id,
            time: new Date(m.time),
            keep: false,
            reasons: ["manifest without its backup (deleted, or a duplicate)"],
        });
    }
    // Restore drill records (verify): the newest one holds the throughput status projects from.
    const newestDrill = latestDrill(snapshots)?.id;
    for (const d of snapshots.filter(isDrillRecord)) {
        const keep = d.id === newestDrill;
        decisions.push({
            snapshotId: d.id,
            role: "drill",
            backupId: d.id,
            time: new Date(d.time),
            keep,
            reasons: [keep ? "the newest restore drill record (restore throughput)" : "an older restore drill record"],
        });
    }
    return { now, decisions, keep: decisions.filter((d) => d.keep), delete: decisions.filter((d) => !d.keep) };
}
