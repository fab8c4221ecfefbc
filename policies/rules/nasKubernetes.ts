/**
 * What only the Kubernetes NAS CronJobs need (§2.5.1.1, §2.5.1.2, §2.6): never twice at once, pods that
 * the restricted Pod Security Standard admits, in a namespace that enforces it. A "NAS CronJob" is a
 * labelled NAS backup CronJob or any CronJob whose container runs the runner (it names the NAS with
 * NAS_BACKUP_REPOSITORY_BASE): prune, verify and drill included. What every NAS job needs on either
 * runtime (bounded, secrets by reference, https) is in ./nasJobs.ts.
 */
import { type ResourceValidationPolicy, type StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { CronJob } from "@pulumi/kubernetes/batch/v1/cronJob";
import { Namespace } from "@pulumi/kubernetes/core/v1/namespace";
import { backupPolicy } from "../../components/policy";
import { restrictedProblems } from "../lib/podSecurity";
import { isNasJob } from "../lib/nasJobs";
import { observe, shown, valueAt } from "../lib/read";
import { backupRule } from "../lib/rule";
import { label } from "../lib/stack";

/** The runner's secret variables and the NAS endpoint check, shared with the Container Apps Jobs. */
export { repositoryBaseProblem, secretVariables } from "./nasJobs";

const nas = backupPolicy.nas;

/** True for a labelled NAS backup CronJob or a CronJob running the runner. */
export function isNasCronJob(cronJob: unknown): boolean {
    return isNasJob("cronjob", cronJob);
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

export const nasKubernetesRules = [nasCronJobNoOverlap, nasCronJobRestrictedPod, nasNamespaceRestricted];
