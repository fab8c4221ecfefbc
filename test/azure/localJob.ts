/**
 * Runs a synthesized Container Apps Job's containers locally, as a replica would run them, with two
 * translations only: every volume lives in a directory under a temporary root (EmptyDir: an empty
 * directory; Secret: the referenced job secrets written as files; AzureFile: a directory the test
 * fills for the environment storage; NfsAzureFile: an empty directory standing for the share, shared
 * by every job given the same `shares` map), a mount is that directory or its `subPath` below it, and
 * paths in the command, arguments and environment are moved to where their mount is. `secretRef`s are
 * resolved from the job's own secrets; a reference to a secret the job does not have fails, as
 * Container Apps refuses such a job. The init containers come first, as a replica runs them.
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
interface VolumeMount {
    volumeName: string;
    mountPath: string;
    subPath?: string;
}
interface ContainerSpec {
    name?: string;
    image?: string;
    command?: string[];
    args?: string[];
    env?: EnvVar[];
    volumeMounts?: VolumeMount[];
}
export interface JobSpec {
    jobName: string;
    configuration: { secrets?: { name: string; value: string }[]; scheduleTriggerConfig: { cronExpression: string } };
    template: { containers: ContainerSpec[]; initContainers?: ContainerSpec[]; volumes?: Volume[] };
    tags?: Record<string, string>;
}

/** One container, ready to run locally. */
export interface LocalContainer {
    readonly command: readonly string[];
    readonly args: readonly string[];
    readonly env: Record<string, string>;
    /** Where each of its mounts is on this machine, by mount path. */
    readonly mounts: Readonly<Record<string, string>>;
}

/** The job's (first) container and its init containers. */
export interface LocalJob extends LocalContainer {
    readonly root: string;
    readonly job: JobSpec;
    readonly initContainers: readonly LocalContainer[];
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

/** Where the test keeps the environment storages: AzureFile fills a directory, NfsAzureFile shares one. */
export interface LocalStorages {
    readonly files?: Record<string, (dir: string) => void>;
    /** NFS shares by environment storage name: the directory that stands for the share. */
    readonly shares?: Record<string, string>;
}

function volumeDirectory(job: JobSpec, volume: Volume, root: string, storages: LocalStorages): string {
    if (volume.storageType === "NfsAzureFile") {
        const share = storages.shares?.[volume.storageName ?? ""];
        if (share === undefined)
            throw new Error(`no local directory for NFS environment storage ${volume.storageName}`);
        return share;
    }
    const dir = join(root, "volumes", volume.name);
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    if (volume.storageType === "Secret") {
        for (const item of volume.secrets ?? []) writeFileSync(join(dir, item.path), secretValue(job, item.secretRef));
    } else if (volume.storageType === "AzureFile") {
        const fill = storages.files?.[volume.storageName ?? ""];
        if (fill === undefined) throw new Error(`no local directory for environment storage ${volume.storageName}`);
        fill(dir);
    } else if (volume.storageType !== "EmptyDir") {
        throw new Error(`volume ${volume.name}: only EmptyDir, Secret, AzureFile and NfsAzureFile are simulated`);
    }
    return dir;
}

function localContainer(job: JobSpec, container: ContainerSpec, volumes: Map<string, string>): LocalContainer {
    const mounts: Record<string, string> = {};
    for (const mount of container.volumeMounts ?? []) {
        const dir = volumes.get(mount.volumeName);
        if (dir === undefined) throw new Error(`volumeMount ${mount.volumeName} has no volume`);
        if (mount.subPath?.startsWith("/")) throw new Error(`subPath ${mount.subPath} must be relative`);
        mounts[mount.mountPath] = mount.subPath === undefined ? dir : join(dir, mount.subPath);
    }
    const local = (value: string) => {
        const at = Object.keys(mounts).find((m) => value === m || value.startsWith(`${m}/`));
        return at === undefined ? value : mounts[at] + value.slice(at.length);
    };
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
        env[variable.name] =
            variable.secretRef !== undefined ? secretValue(job, variable.secretRef) : local(variable.value ?? "");
    }
    return { command: (container.command ?? []).map(local), args: (container.args ?? []).map(local), env, mounts };
}

/** The job's containers, ready to run locally. */
export function localJob(run: OfflineRun, jobName: string, storages: LocalStorages = {}): LocalJob {
    const job = jobSpecOf(run, jobName);
    const root = mkdtempSync(join(tmpdir(), `job-${jobName}-`));
    const volumes = new Map(
        (job.template.volumes ?? []).map((v) => [v.name, volumeDirectory(job, v, root, storages)] as const),
    );
    const [container] = job.template.containers;
    return {
        ...localContainer(job, container, volumes),
        root,
        job,
        initContainers: (job.template.initContainers ?? []).map((c) => localContainer(job, c, volumes)),
    };
}
