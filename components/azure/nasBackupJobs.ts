/**
 * The Container Apps Job specs of one NAS target (pure builders; components/azure/nasBackup.ts
 * creates the resources): `backup` daily, `prune` after it with the maintenance credentials, `verify`
 * daily and a monthly full `drill`, as the Kubernetes CronJobs do (components/kubernetes/jobs.ts),
 * with the runner's command line and environment from the same builders (runnerContract.ts).
 *
 * Differences forced by Container Apps:
 *   - schedules are UTC (nasJobSchedule.ts); bounds are `replicaTimeout` / `replicaRetryLimit`;
 *   - secrets are job secrets, referenced by `secretRef` from the environment and from a Secret volume
 *     (the CA certificates); a value never appears in `env[].value`;
 *   - a job replica ends when all its containers have exited, and Container Apps has no native
 *     sidecar, so a scratch PostgreSQL container beside the runner would keep every drill running
 *     until its timeout. The runner's own container starts a scratch server from the PostgreSQL
 *     binaries of its image instead (`scratchServerScript`), on loopback, and stops it when the
 *     runner exits;
 *   - a replica has at most 8 GiB of ephemeral storage, so verify and drill restore onto the drill
 *     scratch share (NFS, drillScratch.ts), each job into its own directory: a root init container
 *     creates it for the runner's user (Container Apps has no securityContext), the runner's
 *     container mounts only that directory (`subPath`).
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as azure from "@pulumi/azure-native";
import { runnerCacheDir, runnerUser, scratchPostgresPort } from "../kubernetes/pods";
import {
    backupSpec,
    commandLine,
    databaseRunnerEnv,
    nasRunnerEnv,
    pruneSpec,
    runnerExecutable,
    scratchDatabaseRunnerEnv,
    statusSpec,
    verifySpec,
    type RunnerEnvVar,
    type RunnerSecret,
} from "../kubernetes/runnerContract";
import type { CommandSpec } from "../../runner/src/commands";
import { nasBackupDeclarationFor, nasBackupTags } from "../kubernetes/nasBackupContract";
import { drillScratchQuotaKey } from "./drillScratch";
import { containerAppsJobBounds, utcNasSchedules, type NasOperation, type TimeOfDay } from "./nasJobSchedule";

type JobArgs = azure.app.JobArgs;
type Container = azure.types.input.app.ContainerArgs;
type InitContainer = azure.types.input.app.InitContainerArgs;
type Volume = azure.types.input.app.VolumeArgs;
type VolumeMount = azure.types.input.app.VolumeMountArgs;
type Secret = azure.types.input.app.SecretArgs;

/** Names of the job secrets (lower-case letters, digits and '-', as Container Apps requires). */
export const jobSecretNames: Readonly<Record<RunnerSecret | "nasCa" | "databaseCa", string>> = Object.freeze({
    nasUser: "nas-user",
    nasPassword: "nas-password",
    repositoryPassword: "repository-password",
    databasePassword: "database-password",
    scratchPassword: "scratch-password",
    nasCa: "nas-ca",
    databaseCa: "database-ca",
});

/** Where the CA certificates (a Secret volume) appear in the container. */
export const caMount = "/etc/nas-backup/ca";
export const caFiles = Object.freeze({ nas: "nas-ca.pem", database: "database-ca.pem" });
const dataMount = (target: AzureTarget) => `/data/${target.jobName}`;
const scratchMount = "/scratch";

/** The workload profile the jobs run on (the environment's serverless profile). */
export const consumptionProfile = "Consumption";

/**
 * CPU and memory of a runner replica: combinations the Consumption profile accepts (Microsoft Learn,
 * "Containers in Azure Container Apps", vCPU and memory allocation).
 */
export const runnerResources = Object.freeze({ cpu: 1, memory: "2Gi" });
/** A verify or drill replica: the runner and, for a database, the scratch server it restores into. */
export const drillResources = Object.freeze({ cpu: 2, memory: "4Gi" });
/** The init container that creates the job's scratch directory: the smallest size there is. */
export const scratchInitResources = Object.freeze({ cpu: 0.25, memory: "0.5Gi" });

/** What the runner's room error tells the operator when the drill scratch share is too small for a target. */
export const scratchHint = `raise ${drillScratchQuotaKey} in Pulumi.<stack>.yaml: every verify and drill job of the stack restores onto that one NFS share, all verify jobs at the same time (README.md, Drill scratch space)`;

/**
 * The init container's script: `sh -c <script> scratch-directory <directory> <uid> <gid>`. A
 * directory a killed run left behind is removed first, so each run starts empty (initdb needs an
 * empty data directory) and no restored copy outlives the next run.
 */
export const scratchDirectoryScript = [
    'dir="$1"; uid="$2"; gid="$3"',
    'rm -rf "$dir" || exit 1',
    'install -d -o "$uid" -g "$gid" -m 0700 "$dir"',
].join("\n");

/** The job secrets' values (made Pulumi secrets by the component). */
export interface JobSecretValues {
    readonly appendOnly: { readonly user: pulumi.Input<string>; readonly password: pulumi.Input<string> };
    readonly maintenance: { readonly user: pulumi.Input<string>; readonly password: pulumi.Input<string> };
    readonly repositoryPassword: pulumi.Input<string>;
    readonly nasCaCertificate?: pulumi.Input<string>;
}

export interface AzureDatabaseTarget {
    readonly kind: "database";
    readonly target: string;
    readonly jobName: string;
    readonly name: string;
    readonly host: pulumi.Input<string>;
    readonly port: number;
    readonly role: pulumi.Input<string>;
    readonly password: pulumi.Input<string>;
    readonly tls: { readonly mode: "verify-full" | "verify-ca"; readonly caCertificate: pulumi.Input<string> };
}

export interface AzureFileShareTarget {
    readonly kind: "file-share";
    readonly target: string;
    readonly jobName: string;
    readonly name: string;
    /** The environment storage (ManagedEnvironmentsStorage) that mounts the share read-only. */
    readonly storageName: pulumi.Input<string>;
}

export type AzureTarget = AzureDatabaseTarget | AzureFileShareTarget;

export interface JobPlanArgs {
    readonly image: string;
    readonly backupTime: TimeOfDay;
    readonly appendOnlyUrl: URL;
    readonly maintenanceUrl: URL;
    readonly secrets: JobSecretValues;
    /** The drill scratch share: its environment storage and the init container's image (by digest). */
    readonly scratch: { readonly storageName: pulumi.Input<string>; readonly initImage: string };
}

/**
 * The runner's scratch server of a drill: `sh -c <script> nas-backup-scratch <data directory> <runner
 * arguments…>`. initdb and pg_ctl come from the image's PostgreSQL (NAS_BACKUP_PG_BIN_DIR, runner/Dockerfile);
 * the server trusts connections from the container's own loopback only, listens on PGPORT, and is
 * stopped when the runner exits, whose exit status the container keeps.
 */
export const scratchServerScript = [
    'pgdata="$1"; shift',
    'bin="$NAS_BACKUP_PG_BIN_DIR"',
    '"$bin/initdb" -D "$pgdata" -U "$PGUSER" --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null || exit 1',
    '"$bin/pg_ctl" -D "$pgdata" -l "$pgdata.log" -w -t 120 -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $pgdata" start >/dev/null || { cat "$pgdata.log" >&2; exit 1; }',
    `${runnerExecutable} "$@"`,
    "status=$?",
    '"$bin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null',
    // The share outlives the replica: the restored copy does not.
    'rm -rf "$pgdata" "$pgdata.log"',
    'exit "$status"',
].join("\n");

function toAzureEnv(variables: readonly RunnerEnvVar[]): azure.types.input.app.EnvironmentVarArgs[] {
    return variables.map((v) =>
        "value" in v ? { name: v.name, value: v.value } : { name: v.name, secretRef: jobSecretNames[v.secret] },
    );
}

/** The job secrets a command's environment and CA volume reference, and only those. */
function jobSecrets(
    env: readonly RunnerEnvVar[],
    plan: JobPlanArgs,
    command: CommandSpec,
    target: AzureTarget,
    withDatabaseCa: boolean,
): Secret[] {
    const credentials = command.role === "maintenance" ? plan.secrets.maintenance : plan.secrets.appendOnly;
    const values: Partial<Record<keyof typeof jobSecretNames, pulumi.Input<string>>> = {
        nasUser: credentials.user,
        nasPassword: credentials.password,
        repositoryPassword: plan.secrets.repositoryPassword,
        ...(target.kind === "database" ? { databasePassword: target.password } : {}),
    };
    const used = new Set(env.flatMap((v) => ("secret" in v ? [v.secret] : [])));
    const secrets: Secret[] = [...used].map((key) => ({ name: jobSecretNames[key], value: values[key] }));
    if (plan.secrets.nasCaCertificate !== undefined) {
        secrets.push({ name: jobSecretNames.nasCa, value: plan.secrets.nasCaCertificate });
    }
    if (withDatabaseCa && target.kind === "database") {
        secrets.push({ name: jobSecretNames.databaseCa, value: target.tls.caCertificate });
    }
    return secrets;
}

/** The CA certificates as files: a Secret volume of the job secrets nas-ca / database-ca. */
function caVolume(secrets: readonly Secret[]): { volume: Volume; mount: VolumeMount }[] {
    const items = [
        ...(secrets.some((s) => s.name === jobSecretNames.nasCa)
            ? [{ secretRef: jobSecretNames.nasCa, path: caFiles.nas }]
            : []),
        ...(secrets.some((s) => s.name === jobSecretNames.databaseCa)
            ? [{ secretRef: jobSecretNames.databaseCa, path: caFiles.database }]
            : []),
    ];
    return items.length === 0
        ? []
        : [
              {
                  volume: { name: "ca", storageType: "Secret", secrets: items },
                  mount: { volumeName: "ca", mountPath: caMount },
              },
          ];
}

function nasEnv(command: CommandSpec, plan: JobPlanArgs): RunnerEnvVar[] {
    return nasRunnerEnv(command, {
        appendOnlyUrl: plan.appendOnlyUrl,
        maintenanceUrl: plan.maintenanceUrl,
        caPath: plan.secrets.nasCaCertificate !== undefined ? `${caMount}/${caFiles.nas}` : undefined,
        cacheDir: runnerCacheDir,
    });
}

/** A Container Apps Job plan: its name, tags and the arguments the component completes. */
export interface JobPlan {
    readonly operation: NasOperation;
    readonly target: AzureTarget;
    readonly name: string;
    /** The NAS backup declaration (backup jobs only). */
    readonly tags: Record<string, string>;
    readonly configuration: NonNullable<JobArgs["configuration"]>;
    readonly template: { containers: Container[]; initContainers?: InitContainer[]; volumes: Volume[] };
}

interface ContainerPlan {
    readonly command: string[];
    readonly args: string[];
    readonly env: RunnerEnvVar[];
    readonly volumes: { volume: Volume; mount: VolumeMount }[];
    readonly resources: { cpu: number; memory: string };
    readonly databaseCa: boolean;
    readonly initContainers?: InitContainer[];
}

function jobPlan(
    operation: NasOperation,
    target: AzureTarget,
    plan: JobPlanArgs,
    command: CommandSpec,
    c: ContainerPlan,
): JobPlan {
    const secrets = jobSecrets(c.env, plan, command, target, c.databaseCa);
    const volumes = [...caVolume(secrets), ...c.volumes];
    const bounds = containerAppsJobBounds[operation];
    return {
        operation,
        target,
        name: `${operation}-${target.jobName}`,
        tags:
            operation === "backup"
                ? nasBackupTags(nasBackupDeclarationFor({ kind: target.kind, name: target.name }))
                : {},
        configuration: {
            triggerType: "Schedule",
            scheduleTriggerConfig: {
                cronExpression: utcNasSchedules(plan.backupTime)[operation],
                parallelism: 1,
                replicaCompletionCount: 1,
            },
            replicaTimeout: bounds.replicaTimeout,
            replicaRetryLimit: bounds.replicaRetryLimit,
            secrets,
        },
        template: {
            containers: [
                {
                    name: "nas-backup",
                    image: plan.image,
                    command: c.command,
                    args: c.args,
                    env: toAzureEnv(c.env),
                    resources: c.resources,
                    volumeMounts: volumes.map((v) => v.mount),
                },
            ],
            ...(c.initContainers === undefined ? {} : { initContainers: c.initContainers }),
            volumes: volumes.map((v) => v.volume),
        },
    };
}

function backupPlan(target: AzureTarget, plan: JobPlanArgs): JobPlan {
    const data = {
        volume: {
            name: "data",
            storageType: "AzureFile",
            storageName: target.kind === "file-share" ? target.storageName : "",
        },
        mount: { volumeName: "data", mountPath: dataMount(target) },
    };
    const env = [
        ...nasEnv(backupSpec, plan),
        ...(target.kind === "database"
            ? databaseRunnerEnv(backupSpec, {
                  host: target.host,
                  port: target.port,
                  role: target.role,
                  sslMode: target.tls.mode,
                  caPath: `${caMount}/${caFiles.database}`,
              })
            : []),
    ];
    const what = target.kind === "database" ? { database: target.name } : { directory: dataMount(target) };
    return jobPlan("backup", target, plan, backupSpec, {
        command: [runnerExecutable],
        args: commandLine(backupSpec, { target: target.target, ...what }),
        env,
        volumes: target.kind === "file-share" ? [data] : [],
        resources: runnerResources,
        databaseCa: target.kind === "database",
    });
}

function prunePlan(target: AzureTarget, plan: JobPlanArgs): JobPlan {
    return jobPlan("prune", target, plan, pruneSpec, {
        command: [runnerExecutable],
        args: commandLine(pruneSpec, { target: target.target }),
        env: nasEnv(pruneSpec, plan),
        volumes: [],
        resources: runnerResources,
        databaseCa: false,
    });
}

/**
 * The job's own directory of the drill scratch share: a root init container (mounting the share's root)
 * creates it for the runner's user; the runner's container mounts only it, at /scratch.
 */
function scratchDirectory(jobName: string, plan: JobPlanArgs) {
    // NFS 4.1, the only version Azure Files serves: Microsoft's sample that mounts such a share in a
    // Container Apps Job names it (microsoft/azure-container-apps issue 1782, "access denied by server").
    const volume: Volume = {
        name: "scratch",
        storageType: "NfsAzureFile",
        storageName: plan.scratch.storageName,
        mountOptions: "vers=4.1",
    };
    const init: InitContainer = {
        name: "scratch-directory",
        image: plan.scratch.initImage,
        command: ["/bin/sh", "-c", scratchDirectoryScript, "scratch-directory"],
        args: [`${scratchMount}/${jobName}`, String(runnerUser), String(runnerUser)],
        resources: scratchInitResources,
        volumeMounts: [{ volumeName: volume.name, mountPath: scratchMount }],
    };
    return { volume, mount: { volumeName: volume.name, mountPath: scratchMount, subPath: jobName }, init };
}

/** verify (daily: a seventh of the data read, the newest backup restored) and drill (monthly: all data read). */
function verifyPlan(operation: "verify" | "drill", target: AzureTarget, plan: JobPlanArgs): JobPlan {
    const scratch = scratchDirectory(`${operation}-${target.jobName}`, plan);
    // The room check before the drill restores: statfs of the share (its quota less what is used).
    const args = commandLine(verifySpec, {
        target: target.target,
        ...(operation === "drill" ? { "read-data-subset": "100%" } : {}),
        "scratch-directory": scratchMount,
        "scratch-hint": scratchHint,
    });
    const database = target.kind === "database";
    return jobPlan(operation, target, plan, verifySpec, {
        command: database
            ? ["/bin/sh", "-c", scratchServerScript, "nas-backup-scratch", `${scratchMount}/pgdata`]
            : [runnerExecutable],
        args,
        env: [
            ...nasEnv(verifySpec, plan),
            ...(database ? scratchDatabaseRunnerEnv(verifySpec, scratchPostgresPort, false) : []),
        ],
        volumes: [{ volume: scratch.volume, mount: scratch.mount }],
        resources: drillResources,
        databaseCa: false,
        initContainers: [scratch.init],
    });
}

/** The four jobs of one target. Only the backup job carries the NAS backup declaration's tags. */
export function targetJobs(target: AzureTarget, plan: JobPlanArgs): JobPlan[] {
    return [
        backupPlan(target, plan),
        prunePlan(target, plan),
        verifyPlan("verify", target, plan),
        verifyPlan("drill", target, plan),
    ];
}

/** Name of the manual job that tests the way to the NAS (`nas-backup status` of every target). */
export const statusJobName = "nas-status";

/**
 * A manually started job (`az containerapp job start -n nas-status`) that runs `nas-backup status`
 * for every target with the backup credentials: it only reads, and proves DNS, routing, TLS and the
 * credentials from inside the environment before the first night (exit 3 only means no backup yet).
 */
export function statusJob(targets: readonly AzureTarget[], plan: JobPlanArgs): Omit<JobPlan, "operation" | "target"> {
    const env = nasEnv(statusSpec, plan);
    const [first] = targets;
    const secrets = jobSecrets(env, plan, statusSpec, first, false);
    const volumes = caVolume(secrets);
    return {
        name: statusJobName,
        tags: {},
        configuration: {
            triggerType: "Manual",
            manualTriggerConfig: { parallelism: 1, replicaCompletionCount: 1 },
            replicaTimeout: 600,
            replicaRetryLimit: 0,
            secrets,
        },
        template: {
            containers: [
                {
                    name: "nas-backup",
                    image: plan.image,
                    command: [runnerExecutable],
                    args: commandLine(statusSpec, { target: targets.map((t) => t.target) }),
                    env: toAzureEnv(env),
                    resources: runnerResources,
                    volumeMounts: volumes.map((v) => v.mount),
                },
            ],
            volumes: volumes.map((v) => v.volume),
        },
    };
}
