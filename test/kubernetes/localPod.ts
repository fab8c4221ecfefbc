/**
 * Runs a synthesized CronJob's container locally, as the kubelet would run it, with two translations
 * only: every volume's mount path lives under a temporary root (emptyDir: an empty directory;
 * configMap: its items written from the synthesized ConfigMap; persistentVolumeClaim: a directory the
 * test fills), and paths in the environment and arguments are moved under that root the same way.
 * `secretKeyRef`s are resolved from the synthesized Secrets; a reference to a missing Secret or key
 * fails, as it would keep the pod from starting.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resourcesOfType, type OfflineRun } from "../../stacks/offline";

interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface VolumeMount {
    name: string;
    mountPath: string;
}
interface Volume {
    name: string;
    emptyDir?: object;
    configMap?: { name: string; items?: { key: string; path: string }[] };
    persistentVolumeClaim?: { claimName: string };
}
interface Container {
    name: string;
    command?: string[];
    args?: string[];
    env?: EnvVar[];
    volumeMounts?: VolumeMount[];
}
export interface PodSpec {
    containers: Container[];
    initContainers?: Container[];
    volumes?: Volume[];
}

export interface LocalPod {
    /** The container's command and arguments, paths moved under `root`. */
    readonly command: readonly string[];
    readonly args: readonly string[];
    /** The container's environment, secretKeyRefs resolved, paths moved under `root`. */
    readonly env: Record<string, string>;
    readonly root: string;
    readonly podSpec: PodSpec;
}

function objectNamed(run: OfflineRun, type: string, name: string): Record<string, unknown> {
    const found = resourcesOfType(run, type).find((r) => (r.inputs.metadata as { name?: string }).name === name);
    if (found === undefined) {
        throw new Error(`no ${type} named ${name} was synthesized`);
    }
    return found.inputs;
}

export function podSpecOf(run: OfflineRun, cronJobName: string): PodSpec {
    const cronJob = objectNamed(run, "kubernetes:batch/v1:CronJob", cronJobName) as {
        spec: { jobTemplate: { spec: { template: { spec: PodSpec } } } };
    };
    return cronJob.spec.jobTemplate.spec.template.spec;
}

function secretValue(run: OfflineRun, ref: { name: string; key: string }): string {
    const secret = objectNamed(run, "kubernetes:core/v1:Secret", ref.name) as { stringData?: Record<string, string> };
    const value = secret.stringData?.[ref.key];
    if (typeof value !== "string") {
        throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
    }
    return value;
}

function mountVolume(run: OfflineRun, volume: Volume, dir: string, claims: Record<string, (dir: string) => void>) {
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    if (volume.configMap !== undefined) {
        const data = (
            objectNamed(run, "kubernetes:core/v1:ConfigMap", volume.configMap.name) as { data: Record<string, string> }
        ).data;
        for (const item of volume.configMap.items ?? Object.keys(data).map((key) => ({ key, path: key }))) {
            writeFileSync(join(dir, item.path), data[item.key]);
        }
    } else if (volume.persistentVolumeClaim !== undefined) {
        const fill = claims[volume.persistentVolumeClaim.claimName];
        if (fill === undefined)
            throw new Error(`no local directory for claim ${volume.persistentVolumeClaim.claimName}`);
        fill(dir);
    } else if (volume.emptyDir === undefined) {
        throw new Error(`volume ${volume.name}: only emptyDir, configMap and persistentVolumeClaim are simulated`);
    }
}

/** The pod's main container of a synthesized CronJob, ready to run locally. */
export function localPod(
    run: OfflineRun,
    cronJobName: string,
    claims: Record<string, (dir: string) => void> = {},
): LocalPod {
    const podSpec = podSpecOf(run, cronJobName);
    const [container] = podSpec.containers;
    const root = mkdtempSync(join(tmpdir(), `pod-${cronJobName}-`));
    const mounts = container.volumeMounts ?? [];
    for (const mount of mounts) {
        const volume = (podSpec.volumes ?? []).find((v) => v.name === mount.name);
        if (volume === undefined) throw new Error(`volumeMount ${mount.name} has no volume`);
        mountVolume(run, volume, join(root, mount.mountPath), claims);
    }
    const local = (value: string) =>
        mounts.some((m) => value === m.mountPath || value.startsWith(`${m.mountPath}/`)) ? join(root, value) : value;
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (variable.valueFrom !== undefined && ref === undefined)
            throw new Error(`${variable.name}: unsupported valueFrom`);
        env[variable.name] = ref !== undefined ? secretValue(run, ref) : local(variable.value ?? "");
    }
    return {
        command: container.command ?? [],
        args: (container.args ?? []).map(local),
        env,
        root,
        podSpec,
    };
}
