/** `status`: per target, the newest complete backup's age against the RPO (§2.13.2), and the retention counts. */
import { backupPolicy } from "../../components/policy";
import type { Context } from "./context";
import { log } from "./log";
import { classify, nasRetention } from "./retention";

export interface TargetStatus {
    readonly target: string;
    readonly newest: string | null;
    readonly ageHours: number | null;
    readonly rpoHours: number;
    readonly withinRpo: boolean;
    readonly daily: number;
    readonly monthly: number;
    readonly oldestMonthly: string | null;
    readonly incomplete: number;
    readonly error?: string;
}

/**
 * How far in the future the newest backup may be dated before status distrusts the clocks (the
 * backup job's and this host's). Not a policy value: NTP-synchronised hosts differ by far less.
 */
export const clockSkewToleranceMinutes = 15;

export async function targetStatus(ctx: Context, target: string, now: Date): Promise<TargetStatus> {
    const rpoHours = backupPolicy.rpoHours.value;
    const empty = {
        target,
        newest: null,
        ageHours: null,
        rpoHours,
        withinRpo: false,
        daily: 0,
        monthly: 0,
        oldestMonthly: null,
        incomplete: 0,
    };
    try {
        const repo = ctx.repository(target, "backup");
        if ((await repo.probe()) === "missing") return { ...empty, error: "no repository: never backed up" };
        const backups = classify(await repo.snapshots(), nasRetention());
        const complete = backups.filter((b) => b.complete);
        const monthly = complete.filter((b) => b.monthly);
        const newest = complete[complete.length - 1];
        const ageHours = newest ? Math.round(((now.getTime() - newest.time.getTime()) / 3_600_000) * 100) / 100 : null;
        // A backup "from the future" says nothing about the RPO: a clock is wrong somewhere.
        const future = ageHours !== null && ageHours * 60 < -clockSkewToleranceMinutes;
        return {
            target,
            newest: newest ? newest.time.toISOString() : null,
            ageHours,
            rpoHours,
            withinRpo: ageHours !== null && ageHours < rpoHours && !future,
            daily: complete.length,
            monthly: monthly.length,
            oldestMonthly: monthly[0] ? monthly[0].time.toISOString() : null,
            incomplete: backups.length - complete.length,
            ...(future
                ? {
                      error: `newest backup is dated ${-ageHours} h in the future: the clocks of the backup job and this host disagree; the RPO cannot be judged`,
                  }
                : {}),
        };
    } catch (e) {
        return { ...empty, error: (e as Error).message };
    }
}

export async function status(ctx: Context, targets: readonly string[], now = new Date()): Promise<TargetStatus[]> {
    const result: TargetStatus[] = [];
    for (const target of targets) {
        const s = await targetStatus(ctx, target, now);
        log(s.withinRpo ? "info" : "error", "status.target", { ...s });
        result.push(s);
    }
    return result;
}

export function formatStatus(rows: readonly TargetStatus[]): string {
    const header = [
        "TARGET",
        "NEWEST (UTC)",
        "AGE h",
        "RPO",
        "DAILY",
        "MONTHLY",
        "OLDEST MONTHLY (UTC)",
        "INCOMPLETE",
        "PROBLEM",
    ];
    const table = rows.map((r) => [
        r.target,
        r.newest ?? "-",
        r.ageHours === null ? "-" : r.ageHours.toFixed(1),
        r.withinRpo ? "ok" : "FAIL",
        String(r.daily),
        String(r.monthly),
        r.oldestMonthly ?? "-",
        String(r.incomplete),
        r.error ?? (r.withinRpo ? "" : r.newest ? `newest backup older than ${r.rpoHours} h` : "no complete backup"),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
    const fmt = (row: string[]): string =>
        row
            .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [fmt(header), ...table.map(fmt)].join("\n");
}
