/**
 * Alerts that make a silent NAS backup impossible to miss (§2.8, §2.13.2, §2.15): a PrometheusRule
 * (prometheus-operator) over kube-state-metrics, whose metrics carry the CronJob's namespace and name
 * but not its labels (kube-state-metrics exports no custom labels by default), so every expression
 * selects by namespace and CronJob name. A pod the restricted standard refuses never runs: only
 * "no success for 26 h" catches that.
 */
import { backupPolicy } from "../policy";
import type { NasBackupAlertArgs } from "./args";
import { jobBounds } from "./schedule";

/** Newest success older than this: the RPO plus two hours for a late start and the run itself. */
export const staleAfterSeconds = (backupPolicy.rpoHours.value + 2) * 3600;

export interface AlertRule {
    readonly alert: string;
    readonly expr: string;
    readonly for: string;
    readonly labels: Record<string, string>;
    readonly annotations: { readonly summary: string; readonly description: string };
}

const selector = (labels: Record<string, string>) =>
    `{${Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(",")}}`;

/** Jobs owned by one CronJob (kube_job_* metrics name the job; kube_job_owner links it to its CronJob). */
const ownedBy = (namespace: string, cronJob: string) =>
    `on(namespace, job_name) group_left(owner_name) kube_job_owner${selector({ namespace, owner_kind: "CronJob", owner_name: cronJob })}`;

function backupRules(namespace: string, cronJob: string, labels: Record<string, string>): AlertRule[] {
    const cj = selector({ namespace, cronjob: cronJob });
    const rule = (alert: string, expr: string, summary: string, description: string, forDuration = "10m") => ({
        alert,
        expr,
        for: forDuration,
        labels: { severity: "critical", namespace, cronjob: cronJob, ...labels },
        annotations: { summary: `${cronJob}: ${summary}`, description },
    });
    const hours = staleAfterSeconds / 3600;
    return [
        rule(
            "NasBackupTooOld",
            `time() - kube_cronjob_status_last_successful_time${cj} > ${staleAfterSeconds}`,
            `no successful NAS backup for ${hours} h`,
            `The newest successful run of ${namespace}/${cronJob} is older than ${hours} h: the RPO of ${backupPolicy.rpoHours.value} h is breached.`,
        ),
        rule(
            "NasBackupNeverSucceeded",
            `(time() - kube_cronjob_created${cj} > ${staleAfterSeconds}) unless on(namespace, cronjob) kube_cronjob_status_last_successful_time${cj}`,
            `never succeeded in ${hours} h`,
            `${namespace}/${cronJob} exists for more than ${hours} h and never completed a run (pods refused by Pod Security admission never start).`,
        ),
        rule(
            "NasBackupAbsent",
            `absent(kube_cronjob_created${cj})`,
            "not seen by kube-state-metrics",
            `kube-state-metrics reports no CronJob ${namespace}/${cronJob}: kube-state-metrics is down or the CronJob is gone; no other NAS alert can fire.`,
        ),
    ];
}

function operationRules(namespace: string, cronJob: string, labels: Record<string, string>): AlertRule[] {
    const cj = selector({ namespace, cronjob: cronJob });
    const ns = selector({ namespace });
    const deadline = Math.max(...Object.values(jobBounds).map((b) => b.activeDeadlineSeconds));
    const rule = (alert: string, expr: string, summary: string, description: string) => ({
        alert,
        expr,
        for: "5m",
        labels: { severity: "warning", namespace, cronjob: cronJob, ...labels },
        annotations: { summary: `${cronJob}: ${summary}`, description },
    });
    return [
        rule(
            "NasBackupJobFailed",
            `(kube_job_status_failed${ns} > 0 and on(namespace, job_name) time() - kube_job_status_start_time${ns} < ${staleAfterSeconds}) * ${ownedBy(namespace, cronJob)}`,
            "a run failed",
            `A Job of ${namespace}/${cronJob} failed within the last ${staleAfterSeconds / 3600} h; its pod's log says why (one JSON line per event, "cause").`,
        ),
        rule(
            "NasBackupJobOverDeadline",
            `(kube_job_status_active${ns} > 0 and on(namespace, job_name) time() - kube_job_status_start_time${ns} > ${deadline}) * ${ownedBy(namespace, cronJob)}`,
            "a run is active longer than its deadline",
            `A Job of ${namespace}/${cronJob} is still active after ${deadline} s although its activeDeadlineSeconds should have stopped it; with concurrencyPolicy Forbid it blocks every later run.`,
        ),
        rule(
            "NasBackupSuspended",
            `kube_cronjob_spec_suspend${cj} == 1`,
            "suspended",
            `${namespace}/${cronJob} is suspended and starts no runs.`,
        ),
    ];
}

/**
 * The RTO watched (§2.13.1): verify pushes the latest drill's restore time with the share of the RTO it
 * may take (both per target, same labels); the alert fires while the drill takes longer than that.
 */
function restoreTimeRule(target: string, labels: Record<string, string>): AlertRule {
    const sel = selector({ operation: "verify", target });
    return {
        alert: "NasBackupRestoreTimeAtRisk",
        expr: `nas_backup_restore_projected_seconds${sel} > nas_backup_restore_budget_seconds${sel}`,
        for: "10m",
        labels: { severity: "warning", target, ...labels },
        annotations: {
            summary: `${target}: a restore would take more than the planned share of the RTO (${backupPolicy.rtoHours.value} h)`,
            description: `The last restore drill of ${target} took longer than --rto-share of the RTO of ${backupPolicy.rtoHours.value} h (${backupPolicy.rtoHours.clause}); the database grew or restores got slower. Plan faster restores (restore --jobs, a faster restore server) or split the database before the RTO is at risk.`,
        },
    };
}

function pushgatewayRules(targets: readonly string[], labels: Record<string, string>): AlertRule[] {
    return targets.flatMap((target) => [
        restoreTimeRule(target, labels),
        {
            alert: "NasBackupPushedSuccessTooOld",
            expr: `(time() - nas_backup_last_success_timestamp_seconds{operation="backup",target="${target}"} > ${staleAfterSeconds}) or absent(nas_backup_last_success_timestamp_seconds{operation="backup",target="${target}"})`,
            for: "10m",
            labels: { severity: "critical", target, ...labels },
            annotations: {
                summary: `${target}: the runner reported no successful backup for ${staleAfterSeconds / 3600} h`,
                description: `The runner's own metric (Pushgateway) for ${target} is older than ${staleAfterSeconds / 3600} h or missing.`,
            },
        },
    ]);
}

/** The PrometheusRule spec: per backup CronJob the staleness rules, per CronJob the run rules. */
export function nasAlertRules(
    namespace: string,
    cronJobs: readonly { name: string; operation: string }[],
    targets: readonly string[],
    alerts: NasBackupAlertArgs,
): { groups: { name: string; rules: AlertRule[] }[] } {
    const labels = { ...(alerts.alertLabels ?? {}) };
    const backups = cronJobs.filter((c) => c.operation === "backup");
    return {
        groups: [
            { name: "nas-backup-freshness", rules: backups.flatMap((c) => backupRules(namespace, c.name, labels)) },
            { name: "nas-backup-runs", rules: cronJobs.flatMap((c) => operationRules(namespace, c.name, labels)) },
            ...(alerts.pushgateway !== undefined
                ? [{ name: "nas-backup-pushgateway", rules: pushgatewayRules(targets, labels) }]
                : []),
        ],
    };
}
