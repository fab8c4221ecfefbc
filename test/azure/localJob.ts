/**
 * Runs a synthesized Container Apps Job's container locally, as a replica would run it, with two
 * translations only: every volume's mount path lives under a temporary root (EmptyDir: an empty
 * directory; Secret: the referenced job secrets written as files; AzureFile: a directory the test
 * fills for the environment storage), and paths in the command, arguments and environment are moved
 * under that root the same way. `secretRef`s are resolved from the job's own secrets; a reference to
 * a secret the job does not have fails, as Container Apps refuses such a job.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resourcesOfType, type OfflineRun } from "../../stacks/offline";

interface EnvVar {
    name: string;
    value?: string;
    secretRef?: string;
}
interface Volume {
    name: string;
    storageType: string;
    storageName?: string;
    secrets?: { secretRef: string; path: string }[];
}
export interface JobSpec {
    jobName: string;
    configuration: { secrets?: { name: string; value: string }[]; scheduleTriggerConfig: { cronExpression: string } };
    template: {
        containers: {
            command?: string[];
            args?: string[];
            env?: EnvVar[];
            volumeMounts?: { volumeName: string; mountPath: string }[];
        }[];
        volumes?: Volume[];
    };
    tags?: Record<string, string>;
}

export interface LocalJob {
    readonly command: readonly string[];
    readonly args: readonly string[];
    readonly env: Record<string, string>;
    readonly root: string;
    readonly job: JobSpec;
}

export function jobSpecOf(run: OfflineRun, jobName: string): JobSpec {
    const found = resourcesOfType(run, "azure-native:app:Job").find((r) => r.inputs.jobName === jobName);
    if (found === undefined) throw new Error(`no Container Apps Job named ${jobName} was synthesized`);
    return found.inputs as unknown as JobSpec;
}

function secretValue(job: JobSpec, ref: string): string {
    const value = job.configuration.secrets?.find((s) => s.name === ref)?.value;
    if (typeof value !== "string") throw new Error(`job ${job.jobName} has no secret ${ref}`);
    return value;
}

function mountVolume(job: JobSpec, volume: Volume, dir: string, storages: Record<string, (dir: string) => void>) {
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    if (volume.storageType === "Secret") {
        for (const item of volume.secrets ?? []) writeFileSync(join(dir, item.path), secretValue(job, item.secretRef));
    } else if (volume.storageType === "AzureFile") {
        const fill = storages[volume.storageName ?? ""];
        if (fill === undefined) throw new Error(`no local directory for environment storage ${volume.storageName}`);
        fill(dir);
    } else if (volume.storageType !== "EmptyDir") {
        throw new Error(`volume ${volume.name}: only EmptyDir, Secret and AzureFile are simulated`);
    }
}

/** The job's container, ready to run locally. */
export function localJob(
    run: OfflineRun,
    jobName: string,
    storages: Record<string, (dir: string) => void> = {},
): LocalJob {
    const job = jobSpecOf(run, jobName);
    const [container] = job.template.containers;
    const root = mkdtempSync(join(tmpdir(), `job-${jobName}-`));
    const mounts = container.volumeMounts ?? [];
    for (const mount of mounts) {
        const volume = (job.template.volumes ?? []).find((v) => v.name === mount.volumeName);
        if (volume === undefined) throw new Error(`volumeMount ${mount.volumeName} has no volume`);
        mountVolume(job, volume, join(root, mount.mountPath), storages);
    }
    const local = (value: string) =>
        mounts.some((m) => value === m.mountPath || value.startsWith(`${m.mountPath}/`)) ? join(root, value) : value;
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
        env[variable.name] =
            variable.secretRef !== undefined ? secretValue(job, variable.secretRef) : local(variable.value ?? "");
    }
    return { command: (container.command ?? []).map(local), args: (container.args ?? []).map(local), env, root, job };
}
