/**
 * What the NAS backup component needs, independent of any cloud: a Kubernetes provider, the runner
 * image, the NAS, the targets and the daily time. Checked up front (`checkNasBackupArgs`), every error
 * naming the argument, its value and what is allowed.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { checkTargetName, parseRepositoryBase } from "../../runner/src/config";
import { parseDailyTime, type TimeOfDay } from "./schedule";

/** One REST endpoint of the NAS (restic REST server) and its user. */
export interface NasEndpointArgs {
    /** e.g. "rest:https://nas.example:8000/"; plain http only to a loopback host (as the runner enforces). */
    readonly repositoryBase: string;
    readonly user: pulumi.Input<string>;
    /** Made a Pulumi secret by the component in any case. */
    readonly password: pulumi.Input<string>;
}

export interface NasArgs {
    /** The append-only endpoint: backups, verification, drills (cannot delete or overwrite). */
    readonly appendOnly: NasEndpointArgs;
    /** The full-access endpoint: prune only. Its credentials are never mounted into backup pods. */
    readonly maintenance: NasEndpointArgs;
    /** PEM CA certificate of the NAS's https certificate, if it is not in the image's trust store. */
    readonly caCertificate?: pulumi.Input<string>;
    /** Addresses (CIDR) the NAS answers on; the NetworkPolicies allow only these. */
    readonly cidrs: readonly string[];
}

/** libpq TLS modes the component accepts for a database across the network (§2.9). */
export type DatabaseTlsMode = "require" | "verify-ca" | "verify-full";

export interface NasBackupDatabaseArgs {
    /** The PostgreSQL database's name (the policy pack matches it against the stack's databases). */
    readonly name: string;
    /** The runner's target (its repository on the NAS); default: `name`. 1–40 of a-z 0-9 - _. */
    readonly target?: string;
    readonly host: pulumi.Input<string>;
    readonly port: number;
    readonly role: pulumi.Input<string>;
    /** Made a Pulumi secret by the component in any case. */
    readonly password: pulumi.Input<string>;
    readonly tls: { readonly mode: DatabaseTlsMode; readonly caCertificate?: pulumi.Input<string> };
    /** Addresses (CIDR) the database answers on; the NetworkPolicies allow only these. */
    readonly cidrs: readonly string[];
}

export interface NasBackupFileResourceArgs {
    /** The file resource's name (e.g. "documents"). */
    readonly name: string;
    /** The runner's target; default: `name`. */
    readonly target?: string;
    /** An existing PersistentVolumeClaim in the component's namespace, mounted read-only. */
    readonly claimName: pulumi.Input<string>;
}

export interface NasBackupAlertArgs {
    /** Create a PrometheusRule (needs the prometheus-operator CRDs in the cluster). */
    readonly prometheusRule: boolean;
    /** Labels of the PrometheusRule; kube-prometheus-stack loads only rules with its `release` label. */
    readonly ruleLabels?: Readonly<Record<string, string>>;
    /** Labels added to every alert (routing, e.g. `severity`-independent team labels). */
    readonly alertLabels?: Readonly<Record<string, string>>;
    /** The runner pushes its metrics here (optional); the rule then also watches their staleness. */
    readonly pushgateway?: {
        /** Base URL, e.g. "http://pushgateway.monitoring.svc:9091". */
        readonly url: string;
        /** Namespace of the Pushgateway's pods (NetworkPolicy egress). */
        readonly namespace: string;
    };
}

export interface NasBackupArgs {
    readonly provider: k8s.Provider;
    /** Namespace the component creates; default "nas-backup". */
    readonly namespace?: string;
    /** The runner image pinned by digest: "ghcr.io/org/nas-backup@sha256:<64 hex>" (a tag alone is refused). */
    readonly image: string;
    readonly nas: NasArgs;
    readonly databases: readonly NasBackupDatabaseArgs[];
    readonly fileResources: readonly NasBackupFileResourceArgs[];
    /** Daily backup time "HH:MM" in the policy's time zone, outside 02:00–02:59. */
    readonly dailyBackupTime: string;
    /** Image of the drills' scratch PostgreSQL (official `postgres` image), pinned by digest. */
    readonly scratchPostgresImage: string;
    readonly alerts?: NasBackupAlertArgs;
    readonly resources?: {
        readonly runner?: k8s.types.input.core.v1.ResourceRequirements;
        readonly scratchPostgres?: k8s.types.input.core.v1.ResourceRequirements;
    };
}

/** The arguments the pure builders (jobs, NetworkPolicies) read: everything but the provider. */
export type NasJobArgs = Omit<NasBackupArgs, "provider">;

/** A target as the component uses it: its runner name, Kubernetes name and what it backs up. */
export type Target =
    | {
          readonly kind: "database";
          readonly target: string;
          readonly k8sName: string;
          readonly db: NasBackupDatabaseArgs;
      }
    | {
          readonly kind: "file-share";
          readonly target: string;
          readonly k8sName: string;
          readonly files: NasBackupFileResourceArgs;
      };

/** An image reference pinned by digest ("<registry>/<name>@sha256:<64 hex>"). */
export const digestPinned = /^[a-z0-9][^\s@]*@sha256:[0-9a-f]{64}$/;

export function checkImage(key: string, image: string): string {
    if (!digestPinned.test(image)) {
        throw new Error(
            `${key} is ${JSON.stringify(image)}; pin the image by digest: "<registry>/<name>@sha256:<64 hex>" ` +
                "(a tag can be moved to other contents, a digest cannot).",
        );
    }
    return image;
}

/** The runner's own check of a REST endpoint; the error names `key`. */
export function checkRepositoryBase(key: string, value: string): URL {
    try {
        return parseRepositoryBase(value);
    } catch (e) {
        throw new Error(`${key} is ${JSON.stringify(value)}: ${(e as Error).message}`, { cause: e });
    }
}

/** The runner target of a database or file resource (default: its name), checked; `k8sName` is a valid object name. */
export function target(key: string, name: string, explicit: string | undefined): { target: string; k8sName: string } {
    const value = explicit ?? name;
    try {
        checkTargetName(value);
    } catch (e) {
        throw new Error(`${key} is ${JSON.stringify(value)}: ${(e as Error).message}; set its "target".`, { cause: e });
    }
    return { target: value, k8sName: value.replace(/_/g, "-") };
}

function checkCidrs(key: string, cidrs: readonly string[]): void {
    if (cidrs.length === 0 || cidrs.some((c) => !/^[0-9a-f.:]+\/\d{1,3}$/i.test(c))) {
        throw new Error(`${key} is ${JSON.stringify(cidrs)}; give at least one CIDR, e.g. "10.110.0.0/20".`);
    }
}

export interface CheckedArgs {
    readonly image: string;
    readonly scratchPostgresImage: string;
    readonly backupTime: TimeOfDay;
    readonly appendOnlyUrl: URL;
    readonly maintenanceUrl: URL;
    readonly targets: readonly Target[];
}

/** Validates the arguments; throws an error naming the argument, its value and what is allowed. */
export function checkNasBackupArgs(args: NasJobArgs): CheckedArgs {
    checkCidrs("nas.cidrs", args.nas.cidrs);
    const databases = args.databases.map((db, i): Target => {
        checkCidrs(`databases[${i}].cidrs`, db.cidrs);
        if (db.tls.mode !== "require" && db.tls.caCertificate === undefined) {
            throw new Error(
                `databases[${i}].tls.mode is "${db.tls.mode}"; it needs databases[${i}].tls.caCertificate.`,
            );
        }
        return { kind: "database", ...target(`databases[${i}].target`, db.name, db.target), db };
    });
    const files = args.fileResources.map((files, i): Target => ({
        kind: "file-share",
        ...target(`fileResources[${i}].target`, files.name, files.target),
        files,
    }));
    const targets = [...databases, ...files];
    const names = targets.map((t) => t.k8sName);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate !== undefined) {
        throw new Error(`two targets are named ${JSON.stringify(duplicate)}; give one of them another "target".`);
    }
    if (targets.length === 0) {
        throw new Error("databases and fileResources are both empty; the NAS backup needs at least one target.");
    }
    return {
        image: checkImage("image", args.image),
        scratchPostgresImage: checkImage("scratchPostgresImage", args.scratchPostgresImage),
        backupTime: parseDailyTime(args.dailyBackupTime),
        appendOnlyUrl: checkRepositoryBase("nas.appendOnly.repositoryBase", args.nas.appendOnly.repositoryBase),
        maintenanceUrl: checkRepositoryBase("nas.maintenance.repositoryBase", args.nas.maintenance.repositoryBase),
        targets,
    };
}

/** The TCP port of a REST endpoint URL. */
export function portOf(url: URL): number {
    return url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}
