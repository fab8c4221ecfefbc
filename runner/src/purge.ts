/**
 * `purge` (§2.12): early deletion of every backup of one target on customer request, within the
 * policy's deadline. Forgets every snapshot, prunes until no pack file is left, checks that nothing
 * remains, and writes an audit record (what, when, by whom, why) to the log, to stdout, to the NAS
 * audit repository `<base>/_audit/` and, if given, to an audit file.
 */
import { appendFile } from "node:fs/promises";
import { hostname } from "node:os";
import { backupPolicy } from "../../components/policy";
import { resticTime, parseSummary } from "./backup";
import { repositoryLocation, loadCredentials } from "./config";
import type { Context } from "./context";
import { log, secondsSince } from "./log";
import { metricNames, pushMetrics } from "./metrics";
import { OperationError, UsageError } from "./proc";
import { ResticRepository } from "./restic";

/** Repository of the purge audit records (not a valid target name, so it never collides with one). */
export const AUDIT_REPOSITORY = "_audit";

export interface PurgeOptions {
    readonly target: string;
    readonly confirm: string | undefined;
    readonly reason: string | undefined;
    readonly operator: string | undefined;
    readonly auditFile: string | undefined;
}

export interface AuditRecord {
    readonly event: "purge";
    readonly clause: string;
    readonly target: string;
    readonly repository: string;
    readonly reason: string;
    readonly operator: string;
    readonly host: string;
    readonly startedAt: string;
    readonly completedAt: string;
    readonly deletedSnapshots: readonly { id: string; time: string; tags: readonly string[] }[];
    readonly remainingSnapshots: number;
    readonly remainingPackFiles: number;
}

/** The confirmation, reason and operator a purge needs; returns the reason and operator. */
function requireConfirmation(options: PurgeOptions): { reason: string; operator: string } {
    const { target } = options;
    if (options.confirm !== target)
        throw new UsageError(
            `purge deletes every backup of ${target}: repeat the target name with --confirm ${target}`,
        );
    if (!options.reason) throw new UsageError("purge needs --reason (e.g. the customer's deletion request or ticket)");
    if (!options.operator)
        throw new UsageError("purge needs --operator (or NAS_BACKUP_OPERATOR): who performs the deletion");
    return { reason: options.reason, operator: options.operator };
}

/** Forgets every snapshot and prunes until no pack file is left; fails unless nothing remains. */
async function deleteEverything(
    repo: ResticRepository,
): Promise<Pick<AuditRecord, "deletedSnapshots" | "remainingSnapshots" | "remainingPackFiles">> {
    // A mistyped target must not produce an audit record that looks like a completed deletion.
    if ((await repo.open()) !== "exists") {
        throw new OperationError(
            `there is no repository for target ${repo.target} at ${repo.location.display}: nothing was deleted and no audit record was written; check the target name`,
        );
    }
    await repo.unlockStale();
    const snapshots = await repo.snapshots({ complete: true });
    const deletedSnapshots = snapshots.map((s) => ({ id: s.id, time: s.time, tags: s.tags ?? [] }));
    await repo.forget(snapshots.map((s) => s.id));
    await repo.prune("0");
    const remainingSnapshots = (await repo.snapshots({ complete: true })).length;
    const remainingPackFiles = await repo.packCount();
    if (remainingSnapshots > 0 || remainingPackFiles > 0) {
        throw new OperationError(
            `after the purge ${remainingSnapshots} snapshot(s) and ${remainingPackFiles} pack file(s) remain in ${repo.location.display}`,
        );
    }
    return { deletedSnapshots, remainingSnapshots, remainingPackFiles };
}

export async function purge(ctx: Context, options: PurgeOptions): Promise<AuditRecord> {
    const start = performance.now();
    const { target } = options;
    const { reason, operator } = requireConfirmation(options);
    const startedAt = new Date().toISOString();
    const repo = ctx.repository(target, "maintenance");
    log("info", "purge.start", { target, reason, operator });
    try {
        const deleted = await deleteEverything(repo);
        const record: AuditRecord = {
            event: "purge",
            clause: backupPolicy.deletionRequestDays.clause,
            target,
            repository: repo.location.display,
            reason,
            operator,
            host: hostname(),
            startedAt,
            completedAt: new Date().toISOString(),
            ...deleted,
        };
        await writeAudit(ctx, record, options.auditFile);
        log("info", "purge.success", {
            target,
            deletedSnapshots: deleted.deletedSnapshots.length,
            durationSeconds: secondsSince(start),
        });
        await pushMetrics(ctx.pushgateway, "purge", target, {
            [metricNames.lastSuccess]: Date.now() / 1000,
            [metricNames.lastRunSuccess]: 1,
        });
        return record;
    } catch (e) {
        log("error", "purge.failure", { target, cause: (e as Error).message, durationSeconds: secondsSince(start) });
        throw e;
    }
}

async function writeAudit(ctx: Context, record: AuditRecord, auditFile: string | undefined): Promise<void> {
    log("info", "purge.audit", { record });
    if (auditFile) await appendFile(auditFile, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    const audit = new ResticRepository(
        AUDIT_REPOSITORY,
        repositoryLocation(ctx.base("maintenance"), AUDIT_REPOSITORY, loadCredentials("maintenance", ctx.env)),
        {
            env: ctx.env,
            cacert: ctx.cacert,
        },
    );
    await audit.ensureInitialized();
    const result = await audit.run(
        "writing the audit record to the NAS",
        [
            "backup",
            "--stdin",
            "--stdin-filename",
            `purge-${record.target}-${record.completedAt.replace(/[:.]/g, "")}.json`,
            "--host",
            "audit",
            "--time",
            resticTime(new Date(record.completedAt)),
            "--json",
            "--tag",
            "purge",
            "--tag",
            `target=${record.target}`,
        ],
        { input: `${JSON.stringify(record, null, 1)}\n` },
    );
    log("info", "purge.audit_stored", {
        target: record.target,
        auditSnapshot: parseSummary(result.stdout).snapshot_id,
        repository: audit.location.display,
    });
}
