/**
 * `prune`: applies the retention plan (retention.ts) with the maintenance credentials: forget the
 * snapshots the plan deletes, then `restic prune`. `--dry-run` only prints the plan.
 */
import type { Context } from "./context";
import { log, secondsSince } from "./log";
import { metricNames, pushMetrics } from "./metrics";
import { OperationError } from "./proc";
import { nasRetention, plan, type RetentionPlan } from "./retention";

export interface PruneOptions {
    readonly target: string;
    readonly dryRun: boolean;
    /** Plan as of this time (default now); `prune --dry-run --as-of`: "what will be deleted on the 1st?" */
    readonly now?: Date;
}

export interface PruneResult {
    readonly target: string;
    readonly dryRun: boolean;
    readonly plan: RetentionPlan;
    readonly durationSeconds: number;
}

/** The plan as a table people can read at 3 a.m. */
export function formatPlan(target: string, p: RetentionPlan): string {
    const lines = [
        `Retention plan for ${target} at ${p.now.toISOString()}: keep ${p.keep.length}, delete ${p.delete.length} snapshot(s)`,
    ];
    for (const d of [...p.decisions].sort((a, b) => a.time.getTime() - b.time.getTime())) {
        if (d.role === "manifest" && d.backupId !== d.snapshotId) continue; // shown with its backup
        lines.push(
            `${d.keep ? "keep  " : "delete"}  ${d.snapshotId.slice(0, 8)}  ${d.time.toISOString()}  ${d.role === "data" ? "" : `(${d.role}) `}${d.reasons.join("; ")}`,
        );
    }
    return lines.join("\n");
}

export function planToJson(target: string, p: RetentionPlan): unknown {
    return {
        target,
        now: p.now.toISOString(),
        decisions: p.decisions.map((d) => ({ ...d, time: d.time.toISOString(), action: d.keep ? "keep" : "delete" })),
    };
}

export async function prune(ctx: Context, options: PruneOptions): Promise<PruneResult> {
    const start = performance.now();
    const { target } = options;
    const repo = ctx.repository(target, "maintenance");
    log("info", "prune.start", { target, dryRun: options.dryRun });
    try {
        await repo.requireExisting();
        if (!options.dryRun) await repo.unlockStale();
        const snapshots = await repo.snapshots({ complete: true });
        const result = plan(snapshots, options.now ?? new Date(), nasRetention());
        // Belt and braces: never remove the last complete backup, whatever the plan says.
        const complete = new Set(
            result.decisions.filter((d) => d.role === "manifest" && d.backupId !== d.snapshotId).map((d) => d.backupId),
        );
        if (complete.size > 0 && !result.keep.some((d) => d.role === "data" && complete.has(d.snapshotId))) {
            throw new OperationError("the retention plan would delete every complete backup; refusing");
        }
        if (!options.dryRun) {
            await repo.forget(result.delete.map((d) => d.snapshotId));
            await repo.prune("5%");
        }
        const out: PruneResult = { target, dryRun: options.dryRun, plan: result, durationSeconds: secondsSince(start) };
        log("info", "prune.success", {
            target,
            dryRun: options.dryRun,
            kept: result.keep.length,
            deleted: result.delete.length,
            durationSeconds: out.durationSeconds,
        });
        if (!options.dryRun) {
            await pushMetrics(ctx.pushgateway, "prune", target, {
                [metricNames.lastSuccess]: Date.now() / 1000,
                [metricNames.lastRunSuccess]: 1,
                [metricNames.duration]: out.durationSeconds,
            });
        }
        return out;
    } catch (e) {
        log("error", "prune.failure", { target, cause: (e as Error).message, durationSeconds: secondsSince(start) });
        if (!options.dryRun)
            await pushMetrics(ctx.pushgateway, "prune", target, {
                [metricNames.lastFailure]: Date.now() / 1000,
                [metricNames.lastRunSuccess]: 0,
            });
        throw e;
    }
}
