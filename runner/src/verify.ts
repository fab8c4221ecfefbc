/**
 * `verify` (§2.10): `restic check` reading a subset of the pack files, and a restore drill of the
 * latest complete backup into a scratch database (or directory), compared with its manifest and timed
 * against the RTO (§2.13.1).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupPolicy } from "../../components/policy";
import { civilDate, dayNumber } from "./calendar";
import type { Context } from "./context";
import { log, secondsSince } from "./log";
import { metricNames, pushMetrics } from "./metrics";
import { adminStatement, quoteIdent } from "./postgres";
import { OperationError } from "./proc";
import type { ResticRepository } from "./restic";
import { budgetCause, recordDrill, restoreBudget, type RestoreBudget } from "./rto";
import { checkScratchRoom } from "./scratch";
import {
    openBackup,
    restoreDatabase,
    restoreDirectory,
    stopDump,
    type OpenedBackup,
    type RestoreOutcome,
} from "./restore";

/** Pack files are split into this many slices; the default subset reads one slice a day (all within a week). */
const CHECK_SLICES = 7;

/** Today's slice `n/7` of the pack files (every pack is read at least once a week). */
export function defaultReadDataSubset(now: Date): string {
    return `${(dayNumber(civilDate(now, backupPolicy.nas.timeZone.value)) % CHECK_SLICES) + 1}/${CHECK_SLICES}`;
}

export function drillDatabaseName(target: string): string {
    return `nas_backup_drill_${target.replace(/-/g, "_")}`;
}

export interface VerifyOptions {
    readonly target: string;
    readonly readDataSubset: string | undefined;
    readonly adminDatabase: string;
    /**
     * Where the drill restores: a directory target's files, or the filesystem of the scratch server's
     * data directory (a database target; when given, checked for room like a directory's).
     */
    readonly scratchDirectory: string | undefined;
    /** At most this many bytes of the scratch filesystem count as available (--scratch-limit). */
    readonly scratchLimitBytes?: number;
    /** What to raise when the scratch is too small (--scratch-hint). */
    readonly scratchHint?: string;
    /** Share of the RTO the drill may take (0 < share ≤ 1): above it verify fails, long before the RTO is at risk. */
    readonly rtoShare: number;
}

export interface VerifyResult {
    readonly target: string;
    readonly check: { readonly ok: boolean; readonly readDataSubset: string; readonly cause?: string };
    readonly drill:
        | (RestoreOutcome & {
              readonly ok: boolean;
              readonly rtoSeconds: number;
              readonly withinRto: boolean;
              /** The restore time at the target's current size: the latest backup's drill itself. */
              readonly projectedSeconds: number;
              /** The share of the RTO a restore may take (rtoShare × RTO). */
              readonly budgetSeconds: number;
              readonly withinBudget: boolean;
          })
        | { readonly ok: false; readonly cause: string };
    readonly ok: boolean;
    readonly durationSeconds: number;
}

export async function verify(ctx: Context, options: VerifyOptions): Promise<VerifyResult> {
    const start = performance.now();
    const { target } = options;
    const subset = options.readDataSubset ?? defaultReadDataSubset(new Date());
    const repo = ctx.repository(target, "backup");
    log("info", "verify.start", { target, readDataSubset: subset });
    await requireRepository(ctx, repo, target, start);
    const check = await checkRepository(repo, target, subset);
    const drill = await restoreDrill(ctx, repo, options);

    const result: VerifyResult = {
        target,
        check,
        drill,
        ok: check.ok && drill.ok,
        durationSeconds: secondsSince(start),
    };
    await reportResult(ctx, result);
    if (!result.ok) throw new VerifyFailed(result);
    return result;
}

/** NAS down or no repository: a failed verification like any other (logged, and metrics say so). */
async function requireRepository(ctx: Context, repo: ResticRepository, target: string, start: number): Promise<void> {
    try {
        await repo.requireExisting();
    } catch (e) {
        log("error", "verify.failure", { target, cause: (e as Error).message, durationSeconds: secondsSince(start) });
        await pushMetrics(ctx.pushgateway, "verify", target, {
            [metricNames.lastRunSuccess]: 0,
            [metricNames.lastFailure]: Date.now() / 1000,
        });
        throw e;
    }
}

/** `restic check` reading today's subset of the pack files. */
async function checkRepository(repo: ResticRepository, target: string, subset: string): Promise<VerifyResult["check"]> {
    try {
        // Locks of restic processes that died would block the check's exclusive lock.
        await repo.unlockStale().catch((e: Error) => log("warn", "verify.unlock_failed", { target, cause: e.message }));
        await repo.run("restic check", ["check", "--read-data-subset", subset]);
        log("info", "verify.check.success", { target, readDataSubset: subset });
        return { ok: true, readDataSubset: subset };
    } catch (e) {
        const check = { ok: false, readDataSubset: subset, cause: (e as Error).message };
        log("error", "verify.check.failure", { target, readDataSubset: subset, cause: check.cause });
        return check;
    }
}

/** The restore drill of the latest backup, timed against the RTO and the restore budget. */
async function restoreDrill(
    ctx: Context,
    repo: ResticRepository,
    options: VerifyOptions,
): Promise<VerifyResult["drill"]> {
    const { target } = options;
    const budget = restoreBudget(options.rtoShare);
    try {
        const drillStart = performance.now();
        const opened = await openBackup(repo, { snapshot: "latest" });
        const { backup } = opened;
        log("info", "verify.drill.start", {
            target,
            snapshot: backup.shortId,
            snapshotTime: backup.time.toISOString(),
        });
        const outcome = await restoreIntoScratch(ctx, repo, opened, options);
        const durationSeconds = secondsSince(drillStart);
        const drill = judgeDrill(outcome, durationSeconds, budget);
        // The throughput of a complete drill is what status projects restore times from.
        if (outcome.problems.length === 0) {
            await recordDrill(repo, backup.id, outcome.bytes, durationSeconds, new Date()).catch((e: Error) =>
                log("warn", "verify.drill.record_failed", { target, cause: e.message }),
            );
        }
        return drill;
    } catch (e) {
        const drill = { ok: false as const, cause: (e as Error).message };
        log("error", "verify.drill.failure", { target, cause: drill.cause });
        return drill;
    }
}

/** Restores the opened backup into a scratch database (dropped before and after) or a scratch directory. */
async function restoreIntoScratch(
    ctx: Context,
    repo: ResticRepository,
    opened: OpenedBackup,
    options: VerifyOptions,
): Promise<RestoreOutcome> {
    const { target } = options;
    const { backup, manifest } = opened;
    await checkRoom(options, manifest).catch(async (e: Error) => {
        await stopDump(opened.dump);
        throw e;
    });
    if (manifest.kind === "database") {
        const scratch = drillDatabaseName(target);
        const drop = `DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`;
        await adminStatement(options.adminDatabase, drop, ctx.env).catch(async (e: Error) => {
            await stopDump(opened.dump);
            throw e;
        });
        try {
            return await restoreDatabase(
                ctx,
                repo,
                { ...opened, manifest },
                {
                    database: scratch,
                    adminDatabase: options.adminDatabase,
                    create: true,
                    force: false,
                    // The drill server gets the backup's roles as a new server would (older backups: without owners).
                    noOwner: !manifest.roles,
                    createRoles: manifest.roles !== undefined,
                },
            );
        } finally {
            await adminStatement(options.adminDatabase, drop, ctx.env).catch((e: Error) =>
                log("warn", "verify.drill.cleanup_failed", { target, cause: e.message }),
            );
        }
    } else {
        const scratch = await mkdtemp(join(options.scratchDirectory ?? tmpdir(), "nas-backup-drill-"));
        try {
            return await restoreDirectory(repo, backup, manifest, scratch, true);
        } finally {
            await rm(scratch, { recursive: true, force: true });
        }
    }
}

/**
 * Before anything is restored: room on the scratch filesystem for what the backup's manifest says it
 * holds. A database drill is checked only when told where its scratch server keeps its data.
 */
async function checkRoom(options: VerifyOptions, manifest: OpenedBackup["manifest"]): Promise<void> {
    const database = manifest.kind === "database";
    if (database && options.scratchDirectory === undefined) return;
    const room = await checkScratchRoom({
        target: options.target,
        directory: options.scratchDirectory ?? tmpdir(),
        manifest,
        scratchServer: database,
        limitBytes: options.scratchLimitBytes,
        hint: options.scratchHint,
    });
    log("info", "verify.drill.room", {
        target: options.target,
        neededBytes: room.needed,
        availableBytes: room.available,
    });
}

/** The drill passes when the restored data matches the manifest within the RTO and the restore budget. */
function judgeDrill(outcome: RestoreOutcome, durationSeconds: number, budget: RestoreBudget): VerifyResult["drill"] {
    const { rtoSeconds } = budget;
    const withinRto = durationSeconds <= rtoSeconds;
    const withinBudget = durationSeconds <= budget.budgetSeconds;
    const complete = outcome.problems.length === 0;
    const drill = {
        ...outcome,
        durationSeconds,
        ok: complete && withinRto && withinBudget,
        rtoSeconds,
        withinRto,
        projectedSeconds: durationSeconds,
        budgetSeconds: budget.budgetSeconds,
        withinBudget,
    };
    log(drill.ok ? "info" : "error", drill.ok ? "verify.drill.success" : "verify.drill.failure", {
        ...drill,
        ...(!withinBudget ? { cause: budgetCause(durationSeconds, budget, "restore drill took") } : {}),
        ...(outcome.problems.length
            ? { cause: `restored data does not match the manifest: ${outcome.problems.join("; ")}` }
            : {}),
        ...(!withinRto
            ? {
                  cause: `restore took ${durationSeconds} s, longer than the RTO of ${rtoSeconds} s (${backupPolicy.rtoHours.clause})`,
              }
            : {}),
    });
    return drill;
}

/** Logs the verification's result and pushes its metrics (with the drill's restore times, when it ran). */
async function reportResult(ctx: Context, result: VerifyResult): Promise<void> {
    const { target, check, drill } = result;
    log(result.ok ? "info" : "error", result.ok ? "verify.success" : "verify.failure", {
        target,
        durationSeconds: result.durationSeconds,
        ...(result.ok
            ? {}
            : {
                  cause:
                      [check.cause, "cause" in drill ? drill.cause : undefined].filter(Boolean).join("; ") ||
                      "drill failed",
              }),
    });
    await pushMetrics(ctx.pushgateway, "verify", target, {
        [metricNames.lastRunSuccess]: result.ok ? 1 : 0,
        [result.ok ? metricNames.lastSuccess : metricNames.lastFailure]: Date.now() / 1000,
        [metricNames.duration]: result.durationSeconds,
        ...("rtoSeconds" in drill
            ? {
                  [metricNames.restoreDuration]: drill.durationSeconds,
                  [metricNames.restoreProjected]: drill.projectedSeconds,
                  [metricNames.restoreBudget]: drill.budgetSeconds,
              }
            : {}),
    });
}

export class VerifyFailed extends OperationError {
    constructor(readonly result: VerifyResult) {
        super(`verification of ${result.target} failed`);
    }
}
