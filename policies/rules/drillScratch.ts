/**
 * §2.10 on prod/trial: the restore tests (the NAS verify and drill Container Apps Jobs) restore onto
 * the drill scratch share, not into a replica's ephemeral storage (container file system and EmptyDir
 * together at most 8 GiB): a database or share larger than that could not be restore-tested at all.
 * The share's account is recognised as policies/lib/drillScratch.ts describes.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { ManagedEnvironmentsStorage } from "@pulumi/azure-native/app/managedEnvironmentsStorage";
import { backupPolicy } from "../../components/policy";
import { isNasVerifyJob, runnerArgsOf, scratchAccountsMountedBy } from "../lib/drillScratch";
import { record, recordComputed, shown, valueAt } from "../lib/read";
import { backupRule } from "../lib/rule";
import { label, nameOf, sameName } from "../lib/stack";

const scratchFlag = "--scratch-directory";
const scratchVariable = "NAS_BACKUP_SCRATCH_DIRECTORY";
const ephemeral = "the replica's ephemeral storage, at most 8 GiB";

/** The runner container of a Container Apps Job (the one naming the NAS). */
function runnerContainer(job: PolicyResource): unknown {
    const containers = valueAt(job.props, ["template", "containers"]);
    return (Array.isArray(containers) ? containers : []).find((c) => {
        const env = valueAt(c, ["env"]);
        return (Array.isArray(env) ? env : []).some((v) => valueAt(v, ["name"]) === "NAS_BACKUP_REPOSITORY_BASE");
    });
}

/** Where the runner restores: `--scratch-directory`, else NAS_BACKUP_SCRATCH_DIRECTORY; undefined when neither is set. */
function scratchDirectoryOf(job: PolicyResource, container: unknown): unknown {
    const args = runnerArgsOf(job) ?? [];
    const at = args.indexOf(scratchFlag);
    if (at >= 0) return args[at + 1];
    const env = valueAt(container, ["env"]);
    const variable = (Array.isArray(env) ? env : []).find((v) => valueAt(v, ["name"]) === scratchVariable);
    return valueAt(variable, ["value"]);
}

/** Why the job does not restore onto its own directory of a drill scratch share (undefined: it does). */
function scratchProblem(job: PolicyResource, resources: readonly PolicyResource[]): string | undefined {
    const container = runnerContainer(job);
    const directory = scratchDirectoryOf(job, container);
    if (typeof directory !== "string") {
        return `sets no ${scratchFlag} (${scratchVariable}): it restores into the container's file system, ${ephemeral}.`;
    }
    const mounts = valueAt(container, ["volumeMounts"]);
    const mount = (Array.isArray(mounts) ? mounts : []).find((m) => {
        const path = valueAt(m, ["mountPath"]);
        return typeof path === "string" && (directory === path || directory.startsWith(`${path}/`));
    });
    if (mount === undefined) {
        return `restores into ${directory}, which is on no volume: the container's file system, ${ephemeral}.`;
    }
    const volumes = valueAt(job.props, ["template", "volumes"]);
    const volume = (Array.isArray(volumes) ? volumes : []).find(
        (v) => valueAt(v, ["name"]) === valueAt(mount, ["volumeName"]),
    );
    const type = valueAt(volume, ["storageType"]) ?? "EmptyDir";
    if (type !== "NfsAzureFile") {
        return `restores into ${directory} on a volume of type ${shown(type)}; the policy requires the NFS drill scratch share (an EmptyDir is ${ephemeral}).`;
    }
    const subPath = valueAt(mount, ["subPath"]);
    if (typeof subPath !== "string" || subPath === "") {
        return `mounts the whole scratch share at ${directory}; each job restores into its own directory of it (subPath), subPath is ${shown(subPath)}.`;
    }
    const storageName = valueAt(volume, ["storageName"]);
    const storage = resources.find(
        (r) => r.isType(ManagedEnvironmentsStorage) && sameName(nameOf(r, "storageName"), storageName),
    );
    if (storage === undefined) {
        return `mounts environment storage ${shown(storageName)}, which is not in this stack.`;
    }
    if (scratchAccountsMountedBy(storage, resources).length === 0) {
        return `mounts ${label(storage)}, which mounts no drill scratch account of this stack (FileStorage, NFS shares only, Container Apps subnets only, mounted only by verify and drill jobs).`;
    }
    return undefined;
}

export const nasVerifyOnScratchShare = backupRule<StackValidationPolicy>(
    [backupPolicy.review.restoreTestMaxIntervalDays],
    {
        name: "nas-verify-on-scratch-share",
        description:
            `Every NAS verify and drill Container Apps Job (prod/trial) restores onto the drill scratch share: its ${scratchFlag} ` +
            "lies on a volume of type NfsAzureFile mounted with a subPath (the job's own directory) whose environment storage mounts a " +
            "drill scratch account of this stack; not onto an EmptyDir or the container's file system (a replica's ephemeral storage is at most 8 GiB).",
        validateStack: (args, reportViolation) => {
            const jobs = args.resources.filter(isNasVerifyJob);
            if (jobs.length === 0) args.notApplicable("The stack has no NAS verify or drill Container Apps Job.");
            for (const job of jobs) {
                const problem = scratchProblem(job, args.resources);
                record(args, job.urn, "restores onto", problem === undefined ? "the drill scratch share" : problem);
                // How often it restores: shown to the auditor, not judged by this rule (nasJobSchedule.ts, its tests).
                recordComputed(args, job.urn, "configuration.scheduleTriggerConfig.cronExpression (UTC)", () =>
                    valueAt(job.props, ["configuration", "scheduleTriggerConfig", "cronExpression"]),
                );
                if (problem !== undefined) reportViolation(`${label(job)} ${problem}`, job.urn);
            }
        },
    },
);

export const drillScratchRules = [nasVerifyOnScratchShare];
