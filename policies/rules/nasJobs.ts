/**
 * How every NAS job runs, on Kubernetes (CronJobs) and on Azure Container Apps (Jobs) alike
 * (§2.5.1.1, §2.5.1.2, §2.6, §2.9): bounded so a hung run cannot block the next day's, credentials only
 * by reference to a secret, the NAS over https. A "NAS job" is a NAS backup job (declared by label or
 * tag, components/kubernetes/nasBackupContract.ts) or any job whose container runs the runner (it names
 * the NAS with NAS_BACKUP_REPOSITORY_BASE): prune, verify and drill included (policies/lib/nasJobs.ts).
 */
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { backupPolicy } from "../../components/policy";
import { isLoopback } from "../../runner/src/config";
import { isNasJob, type NasJobRuntime, runnerContainers, type RunnerContainer, validateNasJob } from "../lib/nasJobs";
import { observe, shown, valueAt } from "../lib/read";
import { backupRule } from "../lib/rule";

const nas = backupPolicy.nas;
const day = 24 * 3600;

/** Variables holding the repository key and the NAS and database passwords: only from secrets. */
export const secretVariables = [
    "RESTIC_PASSWORD",
    "NAS_BACKUP_REST_PASSWORD",
    "NAS_BACKUP_MAINTENANCE_PASSWORD",
    "PGPASSWORD",
] as const;
const repositoryBaseVariables = ["NAS_BACKUP_REPOSITORY_BASE", "NAS_BACKUP_MAINTENANCE_REPOSITORY_BASE"];

/** Not applicable unless the resource is a NAS job (of its runtime). */
export function onlyNasJobs(runtime: NasJobRuntime, props: unknown, args: ResourceValidationArgs): void {
    if (!isNasJob(runtime, props)) {
        args.notApplicable("Only NAS jobs (declared NAS backups, or jobs running the nas-backup runner).");
    }
}

const positive = (v: unknown): v is number => typeof v === "number" && v > 0;

export const nasJobBounded = backupRule<ResourceValidationPolicy>([nas.schedule, backupPolicy.rpoHours], {
    name: "nas-job-bounded",
    description:
        "A NAS job's run is bounded so that a hung run cannot block the next day's. CronJob: spec.startingDeadlineSeconds, " +
        "jobTemplate.spec.activeDeadlineSeconds and backoffLimit are set, start deadline plus active deadline under 24 h. " +
        "Container Apps Job: configuration.replicaTimeout and replicaRetryLimit are set, timeout × (retries + 1) under 24 h.",
    validateResource: validateNasJob({
        cronJob: (cronJob, args, reportViolation) => {
            onlyNasJobs("cronjob", cronJob, args);
            const starting = observe(args, cronJob, "spec", "startingDeadlineSeconds");
            const active = valueAt(cronJob, ["spec", "jobTemplate", "spec", "activeDeadlineSeconds"]);
            const backoff = valueAt(cronJob, ["spec", "jobTemplate", "spec", "backoffLimit"]);
            if (!positive(starting))
                reportViolation(`spec.startingDeadlineSeconds is ${shown(starting)}; set a bound.`);
            if (!positive(active)) {
                reportViolation(`spec.jobTemplate.spec.activeDeadlineSeconds is ${shown(active)}; set a bound.`);
            }
            if (typeof backoff !== "number" || backoff < 0) {
                reportViolation(`spec.jobTemplate.spec.backoffLimit is ${shown(backoff)}; set a bound.`);
            }
            if (positive(starting) && positive(active) && starting + active >= day) {
                reportViolation(
                    `startingDeadlineSeconds + activeDeadlineSeconds is ${starting + active} s; a run must end within 24 h (${day} s).`,
                );
            }
        },
        containerAppsJob: (job, args, reportViolation) => {
            onlyNasJobs("container-apps-job", job, args);
            const timeout = observe(args, job, "configuration", "replicaTimeout");
            const retries = observe(args, job, "configuration", "replicaRetryLimit");
            if (!positive(timeout)) reportViolation(`configuration.replicaTimeout is ${shown(timeout)}; set a bound.`);
            const retriesBounded = typeof retries === "number" && Number.isInteger(retries) && retries >= 0;
            if (!retriesBounded) {
                reportViolation(`configuration.replicaRetryLimit is ${shown(retries)}; set a bound.`);
            }
            if (positive(timeout) && retriesBounded && timeout * (retries + 1) >= day) {
                reportViolation(
                    `configuration.replicaTimeout × (replicaRetryLimit + 1) is ${timeout * (retries + 1)} s; a run and its retries must end within 24 h (${day} s).`,
                );
            }
        },
    }),
});

/** Violations of a container whose secret variables must be references (`isReference`) to a secret. */
function secretProblems(
    container: RunnerContainer,
    isReference: (v: RunnerContainer["env"][number]) => string | undefined,
) {
    const problems: string[] = [];
    for (const variable of container.env) {
        const name = variable?.name;
        if (typeof name !== "string" || !(secretVariables as readonly string[]).includes(name)) continue;
        const problem = isReference(variable);
        if (problem !== undefined) problems.push(`${container.path}.env ${name} ${problem}`);
    }
    const names = container.env.map((v) => v?.name);
    if (!names.includes("RESTIC_PASSWORD") && !names.includes("RESTIC_PASSWORD_FILE")) {
        problems.push(
            `${container.path}.env sets neither RESTIC_PASSWORD nor RESTIC_PASSWORD_FILE: no repository key.`,
        );
    }
    return problems;
}

/** The runner's containers, or a violation when there is none. */
function runnerContainersOrReport(
    runtime: NasJobRuntime,
    props: unknown,
    reportViolation: (message: string) => void,
): RunnerContainer[] {
    const containers = runnerContainers(runtime, props);
    if (containers.length === 0) {
        reportViolation("no container runs the nas-backup runner (NAS_BACKUP_REPOSITORY_BASE not set).");
    }
    return containers;
}

export const nasJobSecretsByReference = backupRule<ResourceValidationPolicy>(
    [nas.encrypted, backupPolicy.protection.accessRestricted],
    {
        name: "nas-job-secrets-by-reference",
        description:
            `A NAS job's repository key and NAS and database passwords (${secretVariables.join(", ")}) are only references to a secret, ` +
            "never a literal value (CronJob: valueFrom.secretKeyRef; Container Apps Job: secretRef naming one of configuration.secrets); the repository key is set.",
        validateResource: validateNasJob({
            cronJob: (cronJob, args, reportViolation) => {
                onlyNasJobs("cronjob", cronJob, args);
                for (const container of runnerContainersOrReport("cronjob", cronJob, reportViolation)) {
                    const fromSecret = (v: RunnerContainer["env"][number]) =>
                        v.value !== undefined || valueAt(v, ["valueFrom", "secretKeyRef", "key"]) === undefined
                            ? "is not from a secretKeyRef; secrets must come from a Secret."
                            : undefined;
                    secretProblems(container, fromSecret).forEach((p) => reportViolation(p));
                }
            },
            containerAppsJob: (job, args, reportViolation) => {
                onlyNasJobs("container-apps-job", job, args);
                const secrets = valueAt(job, ["configuration", "secrets"]);
                const secretNames = (Array.isArray(secrets) ? secrets : []).map((s) => valueAt(s, ["name"]));
                for (const container of runnerContainersOrReport("container-apps-job", job, reportViolation)) {
                    const byReference = (v: RunnerContainer["env"][number]) => {
                        if (v.value !== undefined || typeof v.secretRef !== "string") {
                            return "is not a secretRef; secrets must come from the job's secrets.";
                        }
                        return secretNames.includes(v.secretRef)
                            ? undefined
                            : `references secret ${shown(v.secretRef)}, which is not one of configuration.secrets.`;
                    };
                    secretProblems(container, byReference).forEach((p) => reportViolation(p));
                }
            },
        }),
    },
);

/** Why a repository base is not acceptable, or undefined (https, or plain http to loopback). */
export function repositoryBaseProblem(value: unknown): string | undefined {
    if (typeof value !== "string") return `is ${shown(value)}; set it to the NAS's rest:https:// URL`;
    let url: URL;
    try {
        url = new URL(value.replace(/^rest:/, ""));
    } catch {
        return `is ${shown(value)}, not a URL`;
    }
    if (url.protocol === "https:") return undefined;
    if (url.protocol === "http:" && isLoopback(url.hostname)) return undefined;
    return `is ${shown(value)}; backups travel to the NAS only over https (plain http only to loopback)`;
}

function httpsProblems(runtime: NasJobRuntime, props: unknown, reportViolation: (message: string) => void): void {
    for (const { path, env } of runnerContainersOrReport(runtime, props, reportViolation)) {
        for (const variable of env.filter((v) => repositoryBaseVariables.includes(String(v?.name)))) {
            const problem = repositoryBaseProblem(variable.value);
            if (problem !== undefined) reportViolation(`${path}.env ${String(variable.name)} ${problem}.`);
        }
    }
}

export const nasJobHttps = backupRule<ResourceValidationPolicy>([backupPolicy.encryption.atRest, nas.encrypted], {
    name: "nas-job-https",
    description: `A NAS job reaches the NAS over https (${repositoryBaseVariables.join(", ")} literal rest:https:// URLs); plain http only to a loopback host, as the runner enforces.`,
    validateResource: validateNasJob({
        cronJob: (cronJob, args, reportViolation) => {
            onlyNasJobs("cronjob", cronJob, args);
            httpsProblems("cronjob", cronJob, reportViolation);
        },
        containerAppsJob: (job, args, reportViolation) => {
            onlyNasJobs("container-apps-job", job, args);
            httpsProblems("container-apps-job", job, reportViolation);
        },
    }),
});

export const nasJobRules = [nasJobBounded, nasJobSecretsByReference, nasJobHttps];
