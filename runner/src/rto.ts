/**
 * The RTO watched (§2.13.1): every restore drill (verify) records how many bytes it restored in how
 * many seconds; verify and status project the restore time of a target at its current size from
 * that throughput and compare it with a share of the RTO, so growth is noticed long before a restore
 * would take longer than the RTO.
 */
import { backupPolicy } from "../../components/policy";
import { resticTime } from "./backup";
import type { ResticRepository } from "./restic";
import { drillFileName, tags, type DrillRecord } from "./snapshots";

/** The RTO and the part of it a projected restore may take before verify and status fail. */
export interface RestoreBudget {
    readonly rtoSeconds: number;
    /** Share of the RTO (0 < share ≤ 1). */
    readonly share: number;
    readonly budgetSeconds: number;
}

export function restoreBudget(share: number): RestoreBudget {
    const rtoSeconds = backupPolicy.rtoHours.value * 3600;
    return { rtoSeconds, share, budgetSeconds: Math.round(rtoSeconds * share * 1000) / 1000 };
}

/** Restore time at `bytes`, at the throughput the drill measured (its fixed cost scales too: conservative). */
export function projectRestoreSeconds(bytes: number, drill: Pick<DrillRecord, "bytes" | "seconds">): number {
    const seconds = drill.bytes > 0 ? (drill.seconds * bytes) / drill.bytes : drill.seconds;
    return Math.round(Math.max(seconds, drill.seconds) * 1000) / 1000;
}

/** Why a projection fails the budget, for the log and the operator. */
export function budgetCause(projectedSeconds: number, budget: RestoreBudget, what: string): string {
    return `${what} ${projectedSeconds} s exceeds ${Number((budget.share * 100).toPrecision(6))} % of the RTO of ${budget.rtoSeconds} s (${budget.budgetSeconds} s, ${backupPolicy.rtoHours.clause}): restores are getting close to the RTO; plan faster restores (restore --jobs, a faster drill/restore server) or split the database`;
}

/** Writes the drill's record: a tiny snapshot whose tags carry the drilled backup, bytes and seconds. */
export async function recordDrill(
    repo: ResticRepository,
    drilledSnapshotId: string,
    bytes: number,
    seconds: number,
    time: Date,
): Promise<void> {
    const recordTags = [
        tags.target(repo.target),
        tags.drill,
        tags.drilled(drilledSnapshotId),
        tags.restoreBytes(bytes),
        tags.restoreSeconds(seconds),
    ];
    await repo.run(
        "recording the restore drill",
        [
            "backup",
            "--stdin",
            "--stdin-filename",
            drillFileName,
            "--host",
            repo.target,
            "--time",
            resticTime(new Date(Math.floor(time.getTime() / 1000) * 1000)),
            ...recordTags.flatMap((t) => ["--tag", t]),
        ],
        { input: `${JSON.stringify({ drilled: drilledSnapshotId, bytes, seconds, time: time.toISOString() })}\n` },
    );
}
