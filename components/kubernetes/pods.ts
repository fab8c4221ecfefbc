/**
 * Pod and container specs of the NAS jobs, built to the Kubernetes **restricted** Pod Security
 * Standard: non-root, no privilege escalation, every capability dropped, seccomp RuntimeDefault, a
 * read-only root filesystem with `emptyDir` volumes where the runner writes (restic's cache, /tmp),
 * no service account token. A pod template that breaks the standard is accepted as part of a CronJob
 * but its pods are then refused every day, so these builders are the only way the component makes pods
 * (and the policy pack checks the result, policies/lib/podSecurity.ts).
 */
import type * as k8s from "@pulumi/kubernetes";

type Container = k8s.types.input.core.v1.Container;
type EnvVar = k8s.types.input.core.v1.EnvVar;
type PodSpec = k8s.types.input.core.v1.PodSpec;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;
type Resources = k8s.types.input.core.v1.ResourceRequirements;

/** The runner image's user and group (runner/Dockerfile: `USER 10001:10001`). */
export const runnerUser = 10001;
/** The official PostgreSQL image's `postgres` user and group. */
export const postgresUser = 999;

/** Where the runner image keeps restic's cache (runner/Dockerfile: RESTIC_CACHE_DIR below it). */
export const runnerCacheDir = "/home/nas-backup/.cache";

export const defaultRunnerResources: Resources = {
    requests: { cpu: "250m", memory: "256Mi" },
    limits: { cpu: "2", memory: "1Gi" },
};

export const defaultScratchPostgresResources: Resources = {
    requests: { cpu: "250m", memory: "256Mi" },
    limits: { cpu: "2", memory: "1Gi" },
};

/** The container security context of the restricted standard. */
export function restrictedContainerSecurity(user: number): k8s.types.input.core.v1.SecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: user,
        runAsGroup: user,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** A value from a key of a Secret (never a literal). */
export function fromSecret(name: string, secretName: string, key: string): EnvVar {
    return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}

export function literal(name: string, value: string): EnvVar {
    return { name, value };
}

export function emptyDir(name: string, mountPath: string): { volume: Volume; mount: VolumeMount } {
    return { volume: { name, emptyDir: {} }, mount: { name, mountPath } };
}

export interface RunnerPodArgs {
    readonly image: string;
    readonly serviceAccountName: string;
    readonly args: readonly string[];
    readonly env: readonly EnvVar[];
    /** Volumes besides the cache and /tmp, with where the runner sees them. */
    readonly volumes: readonly { volume: Volume; mount: VolumeMount }[];
    readonly resources: Resources;
    /** A native sidecar (init container with restartPolicy Always) the runner needs, e.g. a scratch server. */
    readonly sidecar?: Container;
    readonly sidecarVolumes?: readonly Volume[];
}

/** The pod of one run of the runner: one container running `nas-backup <args>`, optionally a sidecar. */
export function runnerPodSpec(args: RunnerPodArgs, executable: string): PodSpec {
    const volumes = [emptyDir("cache", runnerCacheDir), emptyDir("tmp", "/tmp"), ...args.volumes];
    return {
        serviceAccountName: args.serviceAccountName,
        automountServiceAccountToken: false,
        restartPolicy: "Never",
        enableServiceLinks: false,
        securityContext: {
            runAsNonRoot: true,
            runAsUser: runnerUser,
            runAsGroup: runnerUser,
            fsGroup: runnerUser,
            seccompProfile: { type: "RuntimeDefault" },
        },
        ...(args.sidecar ? { initContainers: [args.sidecar] } : {}),
        containers: [
            {
                name: "nas-backup",
                image: args.image,
                command: [executable],
                args: [...args.args],
                env: [...args.env],
                resources: args.resources,
                securityContext: restrictedContainerSecurity(runnerUser),
                volumeMounts: volumes.map((v) => v.mount),
            },
        ],
        volumes: [...volumes.map((v) => v.volume), ...(args.sidecarVolumes ?? [])],
    };
}

/** Port of the drill's scratch PostgreSQL, on the pod's loopback only. */
export const scratchPostgresPort = 5432;

/**
 * A scratch PostgreSQL for restore drills as a native sidecar: it starts before the runner (which
 * waits for its startup probe), listens on the pod's loopback only, keeps its data in an emptyDir,
 * and is stopped by the kubelet when the runner exits, so the Job completes.
 */
export function scratchPostgres(
    image: string,
    passwordSecret: { name: string; key: string },
    resources: Resources,
): { container: Container; volumes: Volume[] } {
    const data = emptyDir("scratch-pgdata", "/var/lib/postgresql/data");
    const run = emptyDir("scratch-pgrun", "/var/run/postgresql");
    const tmp = emptyDir("scratch-pgtmp", "/tmp");
    return {
        container: {
            name: "scratch-postgres",
            image,
            restartPolicy: "Always",
            args: ["-c", "listen_addresses=127.0.0.1", "-c", `port=${scratchPostgresPort}`],
            env: [
                fromSecret("POSTGRES_PASSWORD", passwordSecret.name, passwordSecret.key),
                literal("PGDATA", "/var/lib/postgresql/data/pgdata"),
            ],
            startupProbe: {
                exec: {
                    command: ["pg_isready", "-h", "127.0.0.1", "-p", String(scratchPostgresPort), "-U", "postgres"],
                },
                periodSeconds: 2,
                failureThreshold: 150,
            },
            resources,
            securityContext: restrictedContainerSecurity(postgresUser),
            volumeMounts: [data.mount, run.mount, tmp.mount],
        },
        volumes: [data.volume, run.volume, tmp.volume],
    };
}
