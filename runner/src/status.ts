/** `status`: per target, the newest complete backup's age against the RPO (§2.13.2), and the retention counts. */
import { backupPolicy } from "../../components/policy";
import type { Context } from "./context";
import { log } from "./log";
import { DEFAULT_RTO_SHARE_PERCENT } from "./commands/spec";
import { manifestFileName, latestDrill, type DrillRecord } from "./snapshots";
import { manifestBytes, parseManifest } from "./manifest";
import type { ResticRepository } from "./restic";
import { classify, nasRetention, type ClassifiedBackup } from "./retention";
import { budgetCause, projectRestoreSeconds, restoreBudget, type RestoreBudget } from "./rto";

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
    /** The newest restore drill (verify): what it restored, in how many seconds. */
    readonly drill: { readonly time: string; readonly bytes: number; readonly seconds: number } | null;
    /** Size of the newest complete backup (the dump, or the files). */
    readonly bytes: number | null;
    /** Restore time of the newest complete backup at the drill's throughput; null without a drill. */
    readonly projectedRestoreSeconds: number | null;
    /** The share of the RTO a restore may take (--rto-share × RTO). */
    readonly restoreBudgetSeconds: number;
    /** false when the projected restore time exceeds the budget; null when it cannot be projected. */
    readonly withinRestoreBudget: boolean | null;
    readonly error?: string;
}

/**
 * How far in the future the newest backup may be dated before status distrusts the clocks (the
 * backup job's and this host's). Not a policy value: NTP-synchronised hosts differ by far less.
 */
export const clockSkewToleranceMinutes = 15;

/** The newest complete backup's size, and its restore time projected from the newest drill. */
async function projection(
    repo: ResticRepository,
    newest: ClassifiedBackup | undefined,
    drill: DrillRecord | undefined,
    budget: RestoreBudget,
): Promise<Pick<TargetStatus, "bytes" | "projectedRestoreSeconds" | "withinRestoreBudget">> {
    if (!newest || !drill) return { bytes: null, projectedRestoreSeconds: null, withinRestoreBudget: null };
    // The drilled backup's size is in the record; a newer backup's is in its manifest (one restic start).
    const bytes =
        newest.id === drill.drilled
            ? drill.bytes
            : manifestBytes(parseManifest(await repo.readFile(newest.manifestSnapshotId!, `/${manifestFileName}`)));
    const projected = projectRestoreSeconds(bytes, drill);
    return { bytes, projectedRestoreSeconds: projected, withinRestoreBudget: projected <= budget.budgetSeconds };
}

export async function targetStatus(
    ctx: Context,
    target: string,
    now: Date,
    budget: RestoreBudget = restoreBudget(DEFAULT_RTO_SHARE_PERCENT / 100),
): Promise<TargetStatus> {
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
        drill: null,
        bytes: null,
        projectedRestoreSeconds: null,
        restoreBudgetSeconds: budget.budgetSeconds,
        withinRestoreBudget: null,
    };
    try {
        const repo = ctx.repository(target, "backup");
        if ((await repo.open()) === "missing") return { ...empty, error: "no repository: never backed up" };
        const snapshots = await repo.snapshots();
        const backups = classify(snapshots, nasRetention());
        const drill = latestDrill(snapshots);
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
            drill: drill ? { time: drill.time.toISOString(), bytes: drill.bytes, seconds: drill.seconds } : null,
            restoreBudgetSeconds: budget.budgetSeconds,
            ...(await projection(repo, newest, drill, budget)),
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

export async function status(
    ctx: Context,
    targets: readonly string[],
    now = new Date(),
    budget: RestoreBudget = restoreBudget(DEFAULT_RTO_SHARE_PERCENT / 100),
): Promise<TargetStatus[]> {
    const result: TargetStatus[] = [];
    for (const target of targets) {
        const s = await targetStatus(ctx, target, now, budget);
        const ok = s.withinRpo && s.withinRestoreBudget !== false;
        log(ok ? "info" : "error", "status.target", {
            ...s,
            ...(s.withinRestoreBudget === false
                ? { cause: budgetCause(s.projectedRestoreSeconds!, budget, "projected restore time") }
                : {}),
        });
        result.push(s);
    }
    return result;
}

function problem(r: TargetStatus): string {
    if (!r.withinRpo) return r.newest ? `newest backup older than ${r.rpoHours} h` : "no complete backup";
    if (r.withinRestoreBudget === false)
        return `projected restore ${r.projectedRestoreSeconds} s > budget ${r.restoreBudgetSeconds} s (--rto-share of the RTO)`;
    if (r.drill === null) return "no restore drill yet (run verify): restore time not projected";
    return "";
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
        "RESTORE s",
        "RTO",
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
        r.projectedRestoreSeconds === null ? "-" : String(r.projectedRestoreSeconds),
        r.withinRestoreBudget === null ? "-" : r.withinRestoreBudget ? "ok" : "AT RISK",
        r.error ?? problem(r),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
    const fmt = (row: string[]): string =>
        row
            .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [fmt(header), ...table.map(fmt)].join("\n");
}
