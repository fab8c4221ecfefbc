/**
 * How the NAS CronJobs run (§2.5.1.1, §2.5.1.2, §2.6, §2.9): never twice at once, bounded so a hung
 * run cannot block the next day's, credentials only from Secrets, the NAS over https, pods that the
 * restricted Pod Security Standard admits, in a namespace that enforces it. A "NAS CronJob" is a
 * labelled NAS backup CronJob or any CronJob whose container runs the runner (it names the NAS with
 * NAS_BACKUP_REPOSITORY_BASE): prune, verify and drill included.
 */
import { type ResourceValidationPolicy, type StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { CronJob } from "@pulumi/kubernetes/batch/v1/cronJob";
import { Namespace } from "@pulumi/kubernetes/core/v1/namespace";
import { backupPolicy } from "../../components/policy";
import { readNasBackupDeclaration } from "../../components/kubernetes/nasBackupContract";
import { isLoopback } from "../../runner/src/config";
import { restrictedProblems } from "../lib/podSecurity";
import { observe, shown, valueAt } from "../lib/read";
import { backupRule } from "../lib/rule";
import { label } from "../lib/stack";

const nas = backupPolicy.nas;
const day = 24 * 3600;

/** Variables holding the repository key and the NAS and database passwords: only from Secrets. */
export const secretVariables = [
    "RESTIC_PASSWORD",
    "NAS_BACKUP_REST_PASSWORD",
    "NAS_BACKUP_MAINTENANCE_PASSWORD",
    "PGPASSWORD",
] as const;
const repositoryBaseVariables = ["NAS_BACKUP_REPOSITORY_BASE", "NAS_BACKUP_MAINTENANCE_REPOSITORY_BASE"];

interface EnvVar {
    readonly name?: unknown;
    readonly value?: unknown;
    readonly valueFrom?: unknown;
}

function runnerContainers(cronJob: unknown): { path: string; env: EnvVar[] }[] {
    const pod = valueAt(cronJob, ["spec", "jobTemplate", "spec", "template", "spec"]);
    return (["containers", "initContainers"] as const).flatMap((field) => {
        const list = valueAt(pod, [field]);
        return (Array.isArray(list) ? list : []).flatMap((container, i) => {
            const env = valueAt(container, ["env"]);
            const vars = (Array.isArray(env) ? env : []) as EnvVar[];
            return vars.some((v) => v?.name === "NAS_BACKUP_REPOSITORY_BASE")
                ? [{ path: `${field}[${i}]`, env: vars }]
                : [];
        });
    });
}

/** True for a labelled NAS backup CronJob or a CronJob running the runner. */
export function isNasCronJob(cronJob: unknown): boolean {
    return (
        readNasBackupDeclaration(valueAt(cronJob, ["metadata"])) !== undefined || runnerContainers(cronJob).length > 0
    );
}

function onlyNas(cronJob: unknown, args: { notApplicable(reason?: string): never }): void {
    if (!isNasCronJob(cronJob)) {
        args.notApplicable("Only NAS CronJobs (labelled NAS backups, or CronJobs running the nas-backup runner).");
    }
}

export const nasCronJobNoOverlap = backupRule<ResourceValidationPolicy>([nas.schedule], {
    name: "nas-cronjob-no-overlap",
    description: 'A NAS CronJob never runs twice at once (spec.concurrencyPolicy "Forbid").',
    validateResource: validateResourceOfType(CronJob, (cronJob, args, reportViolation) => {
        onlyNas(cronJob, args);
        const policy = observe(args, cronJob, "spec", "concurrencyPolicy");
        if (policy !== "Forbid") {
            reportViolation(`spec.concurrencyPolicy is ${shown(policy)}; a NAS CronJob requires "Forbid".`);
        }
    }),
});

export const nasCronJobBounded = backupRule<ResourceValidationPolicy>([nas.schedule, backupPolicy.rpoHours], {
    name: "nas-cronjob-bounded",
    description:
        "A NAS CronJob's run is bounded so that a hung run cannot block the next day's: spec.startingDeadlineSeconds, " +
        "jobTemplate.spec.activeDeadlineSeconds and backoffLimit are set, and the start deadline plus the active deadline is under 24 h.",
    validateResource: validateResourceOfType(CronJob, (cronJob, args, reportViolation) => {
        onlyNas(cronJob, args);
        const starting = observe(args, cronJob, "spec", "startingDeadlineSeconds");
        const active = valueAt(cronJob, ["spec", "jobTemplate", "spec", "activeDeadlineSeconds"]);
        const backoff = valueAt(cronJob, ["spec", "jobTemplate", "spec", "backoffLimit"]);
        const positive = (v: unknown): v is number => typeof v === "number" && v > 0;
        if (!positive(starting)) reportViolation(`spec.startingDeadlineSeconds is ${shown(starting)}; set a bound.`);
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
    }),
});

export const nasCronJobSecretsFromSecrets = backupRule<ResourceValidationPolicy>(
    [nas.encrypted, backupPolicy.protection.accessRestricted],
    {
        name: "nas-cronjob-secrets-from-secrets",
        description: `A NAS CronJob's repository key and NAS and database passwords (${secretVariables.join(", ")}) come only from secretKeyRef, never a literal value; the repository key is set.`,
        validateResource: validateResourceOfType(CronJob, (cronJob, args, reportViolation) => {
            onlyNas(cronJob, args);
            const containers = runnerContainers(cronJob);
            if (containers.length === 0) {
                reportViolation("no container runs the nas-backup runner (NAS_BACKUP_REPOSITORY_BASE not set).");
            }
            for (const { path, env } of containers) {
                for (const variable of env) {
                    const name = variable?.name;
                    if (typeof name !== "string" || !(secretVariables as readonly string[]).includes(name)) continue;
                    if (
                        variable.value !== undefined ||
                        valueAt(variable, ["valueFrom", "secretKeyRef", "key"]) === undefined
                    ) {
                        reportViolation(
                            `${path}.env ${name} is not from a secretKeyRef; secrets must come from a Secret.`,
                        );
                    }
                }
                const names = env.map((v) => v?.name);
                if (!names.includes("RESTIC_PASSWORD") && !names.includes("RESTIC_PASSWORD_FILE")) {
                    reportViolation(
                        `${path}.env sets neither RESTIC_PASSWORD nor RESTIC_PASSWORD_FILE: no repository key.`,
                    );
                }
            }
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

export const nasCronJobHttps = backupRule<ResourceValidationPolicy>([backupPolicy.encryption.atRest, nas.encrypted], {
    name: "nas-cronjob-https",
    description: `A NAS CronJob reaches the NAS over https (${repositoryBaseVariables.join(", ")}); plain http only to a loopback host, as the runner enforces.`,
    validateResource: validateResourceOfType(CronJob, (cronJob, args, reportViolation) => {
        onlyNas(cronJob, args);
        const containers = runnerContainers(cronJob);
        if (containers.length === 0)
            reportViolation("no container names the NAS (NAS_BACKUP_REPOSITORY_BASE not set).");
        for (const { path, env } of containers) {
            for (const variable of env.filter((v) => repositoryBaseVariables.includes(String(v?.name)))) {
                const problem = repositoryBaseProblem(variable.value);
                if (problem !== undefined) reportViolation(`${path}.env ${String(variable.name)} ${problem}.`);
            }
        }
    }),
});

export const nasCronJobRestrictedPod = backupRule<ResourceValidationPolicy>(
    [backupPolicy.protection.accessRestricted],
    {
        name: "nas-cronjob-restricted-pod",
        description:
            "A NAS CronJob's pod template meets the restricted Pod Security Standard (non-root, no privilege escalation, " +
            "all capabilities dropped, seccomp RuntimeDefault, allowed volume types); otherwise its pods are refused and no backup runs.",
        validateResource: validateResourceOfType(CronJob, (cronJob, args, reportViolation) => {
            onlyNas(cronJob, args);
            for (const problem of restrictedProblems(
                valueAt(cronJob, ["spec", "jobTemplate", "spec", "template", "spec"]),
            )) {
                reportViolation(`pod template: ${problem}`);
            }
        }),
    },
);

export const nasNamespaceRestricted = backupRule<StackValidationPolicy>([backupPolicy.protection.accessRestricted], {
    name: "nas-namespace-restricted",
    description:
        "The namespace of every NAS CronJob is managed by the stack and enforces the restricted Pod Security Standard " +
        '(label pod-security.kubernetes.io/enforce "restricted").',
    validateStack: (args, reportViolation) => {
        const cronJobs = args.resources.filter((r) => r.isType(CronJob) && isNasCronJob(r.props));
        if (cronJobs.length === 0) args.notApplicable("The stack has no NAS CronJob.");
        const namespaces = args.resources.filter((r) => r.isType(Namespace));
        for (const cronJob of cronJobs) {
            const name = valueAt(cronJob.props, ["metadata", "namespace"]);
            const namespace = namespaces.find((n) => valueAt(n.props, ["metadata", "name"]) === name);
            const enforce = valueAt(namespace?.props, ["metadata", "labels", "pod-security.kubernetes.io/enforce"]);
            if (namespace === undefined) {
                reportViolation(
                    `${label(cronJob)} runs in namespace ${shown(name)}, which this stack does not manage.`,
                    cronJob.urn,
                );
            } else if (enforce !== "restricted") {
                reportViolation(
                    `${label(namespace)} (namespace of ${label(cronJob)}) enforces ${shown(enforce)}; the NAS requires "restricted".`,
                    namespace.urn,
                );
            }
        }
    },
});

export const nasKubernetesRules = [
    nasCronJobNoOverlap,
    nasCronJobBounded,
    nasCronJobSecretsFromSecrets,
    nasCronJobHttps,
    nasCronJobRestrictedPod,
    nasNamespaceRestricted,
];
