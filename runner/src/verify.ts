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
import { budgetCause, recordDrill, restoreBudget } from "./rto";
import { openBackup, restoreDatabase, restoreDirectory, stopDump, type RestoreOutcome } from "./restore";

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
    readonly scratchDirectory: string | undefined;
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
    try {
        await repo.requireExisting();
    } catch (e) {
        // NAS down or no repository: a failed verification like any other (logged, and metrics say so).
        log("error", "verify.failure", { target, cause: (e as Error).message, durationSeconds: secondsSince(start) });
        await pushMetrics(ctx.pushgateway, "verify", target, {
            [metricNames.lastRunSuccess]: 0,
            [metricNames.lastFailure]: Date.now() / 1000,
        });
        throw e;
    }

    let check: VerifyResult["check"];
    try {
        // Locks of restic processes that died would block the check's exclusive lock.
        await repo.unlockStale().catch((e: Error) => log("warn", "verify.unlock_failed", { target, cause: e.message }));
        await repo.run("restic check", ["check", "--read-data-subset", subset]);
        check = { ok: true, readDataSubset: subset };
        log("info", "verify.check.success", { target, readDataSubset: subset });
    } catch (e) {
        check = { ok: false, readDataSubset: subset, cause: (e as Error).message };
        log("error", "verify.check.failure", { target, readDataSubset: subset, cause: check.cause });
    }

    const budget = restoreBudget(options.rtoShare);
    const { rtoSeconds } = budget;
    let drill: VerifyResult["drill"];
    try {
        const drillStart = performance.now();
        const opened = await openBackup(repo, { snapshot: "latest" });
        const { backup, manifest } = opened;
        log("info", "verify.drill.start", {
            target,
            snapshot: backup.shortId,
            snapshotTime: backup.time.toISOString(),
        });
        let outcome: RestoreOutcome;
        if (manifest.kind === "database") {
            const scratch = drillDatabaseName(target);
            const drop = `DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`;
            await adminStatement(options.adminDatabase, drop, ctx.env).catch(async (e: Error) => {
                await stopDump(opened.dump);
                throw e;
            });
            try {
                outcome = await restoreDatabase(
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
                outcome = await restoreDirectory(repo, backup, manifest, scratch, true);
            } finally {
                await rm(scratch, { recursive: true, force: true });
            }
        }
        const durationSeconds = secondsSince(drillStart);
        const withinRto = durationSeconds <= rtoSeconds;
        const withinBudget = durationSeconds <= budget.budgetSeconds;
        const complete = outcome.problems.length === 0;
        drill = {
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
        // The throughput of a complete drill is what status projects restore times from.
        if (complete) {
            await recordDrill(repo, backup.id, outcome.bytes, durationSeconds, new Date()).catch((e: Error) =>
                log("warn", "verify.drill.record_failed", { target, cause: e.message }),
            );
        }
    } catch (e) {
        drill = { ok: false, cause: (e as Error).message };
        log("error", "verify.drill.failure", { target, cause: drill.cause });
    }

    const result: VerifyResult = {
        target,
        check,
        drill,
        ok: check.ok && drill.ok,
        durationSeconds: secondsSince(start),
    };
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
    if (!result.ok) throw new VerifyFailed(result);
    return result;
}

export class VerifyFailed extends OperationError {
    constructor(readonly result: VerifyResult) {
        super(`verification of ${result.target} failed`);
    }
}
