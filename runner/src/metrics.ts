/**
 * Optional Prometheus Pushgateway metrics (NAS_BACKUP_PUSHGATEWAY_URL), one group per target and
 * operation: job="nas_backup", target, operation. A failed push is logged, never fails the backup.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { log } from "./log";

export type Operation = "backup" | "verify" | "prune" | "purge";

/** Metric names (gauges). */
export const metricNames = {
    lastSuccess: "nas_backup_last_success_timestamp_seconds",
    lastFailure: "nas_backup_last_failure_timestamp_seconds",
    lastRunSuccess: "nas_backup_last_run_success",
    duration: "nas_backup_duration_seconds",
    bytesStored: "nas_backup_bytes_stored",
    bytesNew: "nas_backup_bytes_new_uncompressed",
    restoreDuration: "nas_backup_restore_drill_duration_seconds",
    /** A restore's projected time at the target's current size (verify: the drill of the latest backup). */
    restoreProjected: "nas_backup_restore_projected_seconds",
    /** The share of the RTO a projected restore may take (--rto-share × RTO); alert when projected exceeds it. */
    restoreBudget: "nas_backup_restore_budget_seconds",
} as const;

export function exposition(metrics: Readonly<Record<string, number>>): string {
    return Object.entries(metrics)
        .map(([name, value]) => `# TYPE ${name} gauge\n${name} ${value}\n`)
        .join("");
}

const PUSH_TIMEOUT_MS = 10_000;

/** POSTs (replacing only these metric names in the group) to the Pushgateway, if configured. */
export async function pushMetrics(
    url: string | undefined,
    operation: Operation,
    target: string,
    metrics: Readonly<Record<string, number>>,
): Promise<void> {
    if (!url) return;
    const endpoint = new URL(
        `metrics/job/nas_backup/target/${encodeURIComponent(target)}/operation/${operation}`,
        url.endsWith("/") ? url : `${url}/`,
    );
    const body = exposition(metrics);
    try {
        const status = await new Promise<number>((resolve, reject) => {
            const req = (endpoint.protocol === "https:" ? httpsRequest : httpRequest)(
                endpoint,
                { method: "POST", headers: { "content-type": "text/plain; version=0.0.4" }, timeout: PUSH_TIMEOUT_MS },
                (res) => {
                    res.resume();
                    resolve(res.statusCode ?? 0);
                },
            );
            req.on("timeout", () => req.destroy(new Error("timeout")));
            req.on("error", reject);
            req.end(body);
        });
        if (status < 200 || status >= 300) throw new Error(`HTTP ${status}`);
    } catch (e) {
        log("warn", "metrics.push_failed", { target, operation, cause: (e as Error).message });
    }
}
