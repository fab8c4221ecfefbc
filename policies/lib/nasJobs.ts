/**
 * NAS jobs on both runtimes the project schedules them on: Kubernetes CronJobs (staging, any cluster)
 * and Azure Container Apps Jobs (prod and trial, inside the stack's VNet). Both run the same runner
 * image with the same contract (components/kubernetes/nasBackupContract.ts): a NAS *backup* job
 * declares its target and retention (CronJob: label and annotations; Container Apps Job: tags), and
 * every NAS job's runner container names the NAS with NAS_BACKUP_REPOSITORY_BASE.
 *
 * The rules read a job through this module, so one rule serves both runtimes: what differs is where
 * the declaration, the containers and their environment live, which this module knows.
 */
import type { ResourceValidation, ResourceValidationArgs, TypedResourceValidation } from "@pulumi/policy";
import type { Unwrap } from "@pulumi/pulumi";
import { CronJob, type CronJobArgs } from "@pulumi/kubernetes/batch/v1/cronJob";
import { Job, type JobArgs } from "@pulumi/azure-native/app/job";
import {
    nasBackupAnnotations,
    nasBackupLabel,
    readNasBackupDeclaration,
    readNasBackupTags,
    type ReadNasBackupDeclaration,
} from "../../components/kubernetes/nasBackupContract";
import { valueAt } from "./read";

/** The two runtimes of NAS jobs. */
export type NasJobRuntime = "cronjob" | "container-apps-job";

/** One environment variable: Kubernetes `{name, value | valueFrom}`, Container Apps `{name, value | secretRef}`. */
export interface EnvVar {
    readonly name?: unknown;
    readonly value?: unknown;
    readonly valueFrom?: unknown;
    readonly secretRef?: unknown;
}

/** A container running the runner: where it is (for messages) and its environment. */
export interface RunnerContainer {
    readonly path: string;
    readonly env: readonly EnvVar[];
}

/** Where each runtime keeps the pod's containers. */
const containerParent: Readonly<Record<NasJobRuntime, readonly string[]>> = {
    cronjob: ["spec", "jobTemplate", "spec", "template", "spec"],
    "container-apps-job": ["template"],
};

/** The type tokens of the two runtimes' job resources. */
export const nasJobTypes: Readonly<Record<NasJobRuntime, string>> = {
    cronjob: "kubernetes:batch/v1:CronJob",
    "container-apps-job": "azure-native:app:Job",
};

/** The runtime of a resource type, `undefined` for any other type. */
export function nasJobRuntimeOf(type: string): NasJobRuntime | undefined {
    return (Object.keys(nasJobTypes) as NasJobRuntime[]).find((runtime) => nasJobTypes[runtime] === type);
}

/** The containers (and init containers) whose environment names the NAS: the runner's. */
export function runnerContainers(runtime: NasJobRuntime, props: unknown): RunnerContainer[] {
    const parent = valueAt(props, containerParent[runtime]);
    const prefix = runtime === "cronjob" ? "" : "template.";
    return (["containers", "initContainers"] as const).flatMap((field) => {
        const list = valueAt(parent, [field]);
        return (Array.isArray(list) ? list : []).flatMap((container, i) => {
            const env = valueAt(container, ["env"]);
            const vars = (Array.isArray(env) ? env : []) as EnvVar[];
            return vars.some((v) => v?.name === "NAS_BACKUP_REPOSITORY_BASE")
                ? [{ path: `${prefix}${field}[${i}]`, env: vars }]
                : [];
        });
    });
}

/** The NAS backup declaration of a job (CronJob metadata, Container Apps Job tags); `undefined` when it declares none. */
export function nasBackupDeclarationOf(runtime: NasJobRuntime, props: unknown): ReadNasBackupDeclaration | undefined {
    return runtime === "cronjob"
        ? readNasBackupDeclaration(valueAt(props, ["metadata"]))
        : readNasBackupTags(valueAt(props, ["tags"]));
}

/** Where a declared field is shown in messages and evidence: the annotation or the tag. */
export function declarationProperty(runtime: NasJobRuntime, field: keyof typeof nasBackupAnnotations): string {
    const key = nasBackupAnnotations[field];
    return runtime === "cronjob" ? `metadata.annotations["${key}"]` : `tags["${key.replace("/", ":")}"]`;
}

/** How a NAS backup job is marked, per runtime, for messages. */
export const nasBackupMark =
    `CronJob label ${nasBackupLabel.key}=${nasBackupLabel.value}, ` +
    `Container Apps Job tag ${nasBackupLabel.key.replace("/", ":")}=${nasBackupLabel.value}`;

/** True for a NAS backup job or any job running the runner (prune, verify, drill included). */
export function isNasJob(runtime: NasJobRuntime, props: unknown): boolean {
    return nasBackupDeclarationOf(runtime, props) !== undefined || runnerContainers(runtime, props).length > 0;
}

/**
 * A resource validation for NAS jobs of both runtimes: `cronJob` sees a CronJob's props, `containerAppsJob`
 * a Container Apps Job's, typed as the SDK's. Other resources: not applicable.
 */
export function validateNasJob(handlers: {
    readonly cronJob: TypedResourceValidation<Unwrap<CronJobArgs>>;
    readonly containerAppsJob: TypedResourceValidation<Unwrap<JobArgs>>;
}): ResourceValidation {
    return (args: ResourceValidationArgs, reportViolation) => {
        const cronJob = args.asType(CronJob);
        if (cronJob !== undefined) return handlers.cronJob(cronJob, args, reportViolation);
        const job = args.asType(Job);
        if (job !== undefined) return handlers.containerAppsJob(job, args, reportViolation);
        args.notApplicable(
            `Only NAS jobs: resources of type '${nasJobTypes.cronjob}' or '${nasJobTypes["container-apps-job"]}'.`,
        );
    };
}
