/**
 * The CronJob specs of one NAS target (pure builders; the component creates the resources):
 * `backup` daily, `prune` after it with the maintenance credentials, `verify` daily and a monthly
 * full `drill`, both restoring into a scratch PostgreSQL sidecar (databases) or an emptyDir (files).
 */
import type * as k8s from "@pulumi/kubernetes";
import { backupPolicy } from "../policy";
import type { CheckedArgs, NasJobArgs, Target } from "./args";
import { nasBackupDeclarationFor, nasBackupMetadata } from "./nasBackupContract";
import {
    defaultRunnerResources,
    defaultScratchPostgresResources,
    emptyDir,
    fromSecret,
    runnerCacheDir,
    runnerPodSpec,
    scratchPostgres,
    scratchPostgresPort,
} from "./pods";
import {
    backupSpec,
    commandLine,
    databaseRunnerEnv,
    nasRunnerEnv,
    pruneSpec,
    runnerExecutable,
    scratchDatabaseRunnerEnv,
    verifySpec,
    type RunnerEnvVar,
    type RunnerSecret,
} from "./runnerContract";
import type { CommandSpec } from "../../runner/src/commands";
import { jobBounds, nasSchedules, type NasOperation } from "./schedule";

type EnvVar = k8s.types.input.core.v1.EnvVar;
type CronJobSpec = k8s.types.input.batch.v1.CronJobSpec;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

const prefix = "backup-policy.it-manufactory.de";

/** Names of the objects the component creates in its namespace. */
export const names = Object.freeze({
    backupServiceAccount: "nas-backup",
    maintenanceServiceAccount: "nas-backup-maintenance",
    repositoryKeySecret: "nas-backup-repository-key",
    appendOnlySecret: "nas-backup-append-only",
    maintenanceSecret: "nas-backup-maintenance",
    scratchPostgresSecret: "nas-backup-scratch-postgres",
    databaseSecret: (target: Target) => `nas-backup-db-${target.k8sName}`,
    caConfigMap: "nas-backup-ca",
    cronJob: (operation: NasOperation, target: Target) => `${operation}-${target.k8sName}`,
});

/** Pod labels: the NetworkPolicies select pods by these. */
export const podLabelKeys = Object.freeze({
    name: "app.kubernetes.io/name",
    operation: "app.kubernetes.io/component",
    target: `${prefix}/nas-target`,
    credentials: `${prefix}/nas-credentials`,
});

export type Credentials = "append-only" | "maintenance";

export function podLabels(operation: NasOperation, target: Target): Record<string, string> {
    return {
        [podLabelKeys.name]: "nas-backup",
        [podLabelKeys.operation]: operation,
        [podLabelKeys.target]: target.k8sName,
        [podLabelKeys.credentials]: operation === "prune" ? "maintenance" : "append-only",
    };
}

/** Keys of the CA certificates in the CA ConfigMap, and where pods see them. */
export const caMount = "/etc/nas-backup/ca";
export const caKeys = Object.freeze({ nas: "nas.crt", database: (target: Target) => `db-${target.k8sName}.crt` });

const dataMount = (target: Target) => `/data/${target.k8sName}`;
const scratchMount = "/scratch";

/** A runner environment variable as a Kubernetes EnvVar: secrets by `secretKeyRef` to the component's Secrets. */
function k8sEnv(variable: RunnerEnvVar, command: CommandSpec, target: Target | undefined): EnvVar {
    if ("value" in variable) {
        return { name: variable.name, value: variable.value };
    }
    const nasSecret = command.role === "maintenance" ? names.maintenanceSecret : names.appendOnlySecret;
    const source: Record<RunnerSecret, [string, string]> = {
        nasUser: [nasSecret, "user"],
        nasPassword: [nasSecret, "password"],
        repositoryPassword: [names.repositoryKeySecret, "password"],
        databasePassword: [target !== undefined ? names.databaseSecret(target) : "", "password"],
        scratchPassword: [names.scratchPostgresSecret, "password"],
    };
    const [secretName, key] = source[variable.secret];
    return fromSecret(variable.name, secretName, key);
}

function nasEnv(command: CommandSpec, args: NasJobArgs, checked: CheckedArgs): EnvVar[] {
    return nasRunnerEnv(command, {
        appendOnlyUrl: checked.appendOnlyUrl,
        maintenanceUrl: checked.maintenanceUrl,
        caPath: args.nas.caCertificate !== undefined ? `${caMount}/${caKeys.nas}` : undefined,
        pushgatewayUrl: args.alerts?.pushgateway?.url,
        cacheDir: runnerCacheDir,
    }).map((variable) => k8sEnv(variable, command, undefined));
}

function databaseEnv(command: CommandSpec, target: Target & { kind: "database" }): EnvVar[] {
    const { db } = target;
    return databaseRunnerEnv(command, {
        host: db.host,
        port: db.port,
        role: db.role,
        sslMode: db.tls.mode,
        caPath: db.tls.caCertificate !== undefined ? `${caMount}/${caKeys.database(target)}` : undefined,
    }).map((variable) => k8sEnv(variable, command, target));
}

function scratchDatabaseEnv(command: CommandSpec): EnvVar[] {
    return scratchDatabaseRunnerEnv(command, scratchPostgresPort).map((variable) =>
        k8sEnv(variable, command, undefined),
    );
}

/** The CA ConfigMap as a volume: the NAS's CA, and the database's CA for pods that reach the database. */
function caVolume(args: NasJobArgs, target: Target | undefined): { volume: Volume; mount: VolumeMount }[] {
    const items = [
        ...(args.nas.caCertificate !== undefined ? [{ key: caKeys.nas, path: caKeys.nas }] : []),
        ...(target?.kind === "database" && target.db.tls.caCertificate !== undefined
            ? [{ key: caKeys.database(target), path: caKeys.database(target) }]
            : []),
    ];
    if (items.length === 0) {
        return [];
    }
    return [
        {
            volume: { name: "ca", configMap: { name: names.caConfigMap, items } },
            mount: { name: "ca", mountPath: caMount, readOnly: true },
        },
    ];
}

function dataVolume(target: Target & { kind: "file-share" }): { volume: Volume; mount: VolumeMount } {
    return {
        volume: { name: "data", persistentVolumeClaim: { claimName: target.files.claimName, readOnly: true } },
        mount: { name: "data", mountPath: dataMount(target), readOnly: true },
    };
}

function cronJobSpec(
    operation: NasOperation,
    schedule: string,
    podSpec: k8s.types.input.core.v1.PodSpec,
    labels: Record<string, string>,
): CronJobSpec {
    const bounds = jobBounds[operation];
    return {
        schedule,
        timeZone: backupPolicy.nas.timeZone.value,
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: bounds.startingDeadlineSeconds,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 5,
        suspend: false,
        jobTemplate: {
            metadata: { labels },
            spec: {
                backoffLimit: bounds.backoffLimit,
                activeDeadlineSeconds: bounds.activeDeadlineSeconds,
                template: { metadata: { labels }, spec: podSpec },
            },
        },
    };
}

export interface CronJobPlan {
    readonly operation: NasOperation;
    readonly name: string;
    readonly metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
    readonly spec: CronJobSpec;
}

function backupPlan(args: NasJobArgs, checked: CheckedArgs, target: Target, schedule: string): CronJobPlan {
    const volumes = [...caVolume(args, target), ...(target.kind === "file-share" ? [dataVolume(target)] : [])];
    const what = target.kind === "database" ? { database: target.db.name } : { directory: dataMount(target) };
    const labels = podLabels("backup", target);
    const podSpec = runnerPodSpec(
        {
            image: checked.image,
            serviceAccountName: names.backupServiceAccount,
            args: commandLine(backupSpec, { target: target.target, ...what }),
            env: [
                ...nasEnv(backupSpec, args, checked),
                ...(target.kind === "database" ? databaseEnv(backupSpec, target) : []),
            ],
            volumes,
            resources: args.resources?.runner ?? defaultRunnerResources,
        },
        runnerExecutable,
    );
    const contract = nasBackupMetadata(
        nasBackupDeclarationFor({
            kind: target.kind,
            name: target.kind === "database" ? target.db.name : target.files.name,
        }),
    );
    return {
        operation: "backup",
        name: names.cronJob("backup", target),
        metadata: { labels: { ...labels, ...contract.labels }, annotations: contract.annotations },
        spec: cronJobSpec("backup", schedule, podSpec, labels),
    };
}

function prunePlan(args: NasJobArgs, checked: CheckedArgs, target: Target, schedule: string): CronJobPlan {
    const labels = podLabels("prune", target);
    const podSpec = runnerPodSpec(
        {
            image: checked.image,
            serviceAccountName: names.maintenanceServiceAccount,
            args: commandLine(pruneSpec, { target: target.target }),
            env: nasEnv(pruneSpec, args, checked),
            volumes: caVolume(args, undefined),
            resources: args.resources?.runner ?? defaultRunnerResources,
        },
        runnerExecutable,
    );
    return {
        operation: "prune",
        name: names.cronJob("prune", target),
        metadata: { labels },
        spec: cronJobSpec("prune", schedule, podSpec, labels),
    };
}

/** verify (daily: a seventh of the data read, the newest backup restored) and drill (monthly: all data read). */
function verifyPlan(
    operation: "verify" | "drill",
    args: NasJobArgs,
    checked: CheckedArgs,
    target: Target,
    schedule: string,
): CronJobPlan {
    const labels = podLabels(operation, target);
    const scratchDir = emptyDir("scratch", scratchMount);
    const sidecar =
        target.kind === "database"
            ? scratchPostgres(
                  checked.scratchPostgresImage,
                  { name: names.scratchPostgresSecret, key: "password" },
                  args.resources?.scratchPostgres ?? defaultScratchPostgresResources,
              )
            : undefined;
    const options = {
        target: target.target,
        ...(operation === "drill" ? { "read-data-subset": "100%" } : {}),
        ...(target.kind === "file-share" ? { "scratch-directory": scratchMount } : {}),
    };
    const podSpec = runnerPodSpec(
        {
            image: checked.image,
            serviceAccountName: names.backupServiceAccount,
            args: commandLine(verifySpec, options),
            env: [
                ...nasEnv(verifySpec, args, checked),
                ...(target.kind === "database" ? scratchDatabaseEnv(verifySpec) : []),
            ],
            volumes: [...caVolume(args, undefined), ...(sidecar ? [] : [scratchDir])],
            resources: args.resources?.runner ?? defaultRunnerResources,
            sidecar: sidecar?.container,
            sidecarVolumes: sidecar?.volumes,
        },
        runnerExecutable,
    );
    return {
        operation,
        name: names.cronJob(operation, target),
        metadata: { labels },
        spec: cronJobSpec(operation, schedule, podSpec, labels),
    };
}

/** The four CronJobs of one target. Only the backup CronJob carries the NAS backup contract's metadata. */
export function targetCronJobs(args: NasJobArgs, checked: CheckedArgs, target: Target): CronJobPlan[] {
    const schedules = nasSchedules(checked.backupTime);
    return [
        backupPlan(args, checked, target, schedules.backup),
        prunePlan(args, checked, target, schedules.prune),
        verifyPlan("verify", args, checked, target, schedules.verify),
        verifyPlan("drill", args, checked, target, schedules.drill),
    ];
}
