/**
 * The contract between the Kubernetes NAS backup CronJobs (§2.5.1.1, §2.5.1.2) and the policy pack.
 *
 * A NAS backup CronJob (`kubernetes:batch/v1:CronJob`) declares, in its own metadata, that it is a NAS
 * backup, which single target it backs up and the retention it applies. The CronJob component writes
 * this metadata with `nasBackupMetadata` from the same declaration it turns into the runner's
 * arguments; the pack reads it back with `readNasBackupDeclaration` and matches it against the stack's
 * databases and file shares, whose target is derived by `nasBackupTargetOf`.
 *
 * Targets are named the way the data is named on its platform, not by Pulumi resource name:
 *   - a database: `{ kind: "database", name: <database name> }` (PostgreSQL database name, e.g. "main", "auth");
 *   - a file share: `{ kind: "file-share", name: <share name> }` (e.g. "documents", "images").
 * The schedule and time zone are the CronJob's own `spec.schedule` / `spec.timeZone`.
 *
 * A file resource the stack does not create (an existing PersistentVolumeClaim named in config) has no
 * resource of its own the pack could see. The stack then marks the claim with a
 * PersistentVolumeClaimPatch carrying `fileResourceClaimMetadata` (the file resource's name); the
 * pack treats that patch as the file resource, and only a NAS backup CronJob that declares it AND
 * mounts that very claim read-only, in the claim's namespace, covers it (`mountsClaimReadOnly`).
 * On Azure, a Container Apps Job carries the same declaration as tags (`nasBackupTags`); its schedule
 * is its `configuration.scheduleTriggerConfig.cronExpression`, evaluated in UTC.
 */
import { backupPolicy } from "../policy";

/** Kinds of data the NAS backs up: every database and every file resource (§2.5.1.1, §2.5.1.2). */
export type NasBackupTargetKind = "database" | "file-share";

export interface NasBackupTarget {
    readonly kind: NasBackupTargetKind;
    /** The database's or share's name on its platform (e.g. "main", "documents"). */
    readonly name: string;
}

/** What one NAS backup CronJob declares. The values come from components/policy.ts. */
export interface NasBackupDeclaration extends NasBackupTarget {
    readonly dailyRetentionDays: number;
    readonly monthlyRetentionMonths: number;
    readonly monthlyAnchorDayOfMonth: number;
}

const prefix = "backup-policy.it-manufactory.de";

/** The label every NAS backup CronJob carries (selectable: `kubectl get cronjobs -l <key>=<value>`). */
export const nasBackupLabel = Object.freeze({ key: `${prefix}/nas-backup`, value: "true" });

/**
 * The annotation naming the file resource an existing claim holds (on the claim, set by a
 * PersistentVolumeClaimPatch of the stack), and the patch's type token.
 */
export const fileResourceClaimAnnotation = `${prefix}/file-resource`;
export const fileResourceClaimType = "kubernetes:core/v1:PersistentVolumeClaimPatch";

/** Metadata of the patch that marks an existing claim as holding file resource `fileResource`. */
export function fileResourceClaimMetadata(fileResource: string): {
    labels: Record<string, string>;
    annotations: Record<string, string>;
} {
    return {
        labels: { [nasBackupLabel.key]: nasBackupLabel.value },
        annotations: { [fileResourceClaimAnnotation]: fileResource },
    };
}

/** The annotations a NAS backup CronJob carries, one per declared field. */
export const nasBackupAnnotations = Object.freeze({
    targetKind: `${prefix}/target-kind`,
    targetName: `${prefix}/target-name`,
    dailyRetentionDays: `${prefix}/daily-retention-days`,
    monthlyRetentionMonths: `${prefix}/monthly-retention-months`,
    monthlyAnchorDayOfMonth: `${prefix}/monthly-anchor-day-of-month`,
    policyVersion: `${prefix}/policy-version`,
});

/** The declaration of a NAS backup of `target` with the policy's retention. */
export function nasBackupDeclarationFor(target: NasBackupTarget): NasBackupDeclaration {
    return {
        ...target,
        dailyRetentionDays: backupPolicy.nas.dailyRetentionDays.value,
        monthlyRetentionMonths: backupPolicy.nas.monthlyRetentionMonths.value,
        monthlyAnchorDayOfMonth: backupPolicy.nas.monthlyAnchorDayOfMonth.value,
    };
}

/** Labels and annotations the CronJob component puts on a NAS backup CronJob's metadata. */
export function nasBackupMetadata(declaration: NasBackupDeclaration): {
    labels: Record<string, string>;
    annotations: Record<string, string>;
} {
    return {
        labels: { [nasBackupLabel.key]: nasBackupLabel.value },
        annotations: {
            [nasBackupAnnotations.targetKind]: declaration.kind,
            [nasBackupAnnotations.targetName]: declaration.name,
            [nasBackupAnnotations.dailyRetentionDays]: String(declaration.dailyRetentionDays),
            [nasBackupAnnotations.monthlyRetentionMonths]: String(declaration.monthlyRetentionMonths),
            [nasBackupAnnotations.monthlyAnchorDayOfMonth]: String(declaration.monthlyAnchorDayOfMonth),
            [nasBackupAnnotations.policyVersion]: backupPolicy.version.value,
        },
    };
}

/** A declaration as read back from metadata: fields missing or malformed are `undefined`. */
export type ReadNasBackupDeclaration = {
    readonly [K in keyof NasBackupDeclaration]: NasBackupDeclaration[K] | undefined;
};

function text(record: Record<string, unknown> | undefined, key: string): string | undefined {
    const value = record?.[key];
    return typeof value === "string" && value !== "" ? value : undefined;
}

function integer(record: Record<string, unknown> | undefined, key: string): number | undefined {
    const value = text(record, key);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Reads a CronJob's metadata; `undefined` when it is not labelled as a NAS backup. */
export function readNasBackupDeclaration(metadata: unknown): ReadNasBackupDeclaration | undefined {
    if (metadata === null || typeof metadata !== "object") {
        return undefined;
    }
    const { labels, annotations } = metadata as {
        labels?: Record<string, unknown>;
        annotations?: Record<string, unknown>;
    };
    if (text(labels, nasBackupLabel.key) !== nasBackupLabel.value) {
        return undefined;
    }
    const kind = text(annotations, nasBackupAnnotations.targetKind);
    return {
        kind: kind === "database" || kind === "file-share" ? kind : undefined,
        name: text(annotations, nasBackupAnnotations.targetName),
        dailyRetentionDays: integer(annotations, nasBackupAnnotations.dailyRetentionDays),
        monthlyRetentionMonths: integer(annotations, nasBackupAnnotations.monthlyRetentionMonths),
        monthlyAnchorDayOfMonth: integer(annotations, nasBackupAnnotations.monthlyAnchorDayOfMonth),
    };
}

/**
 * Azure tag names may not contain "/" (nor <, >, %, &, \, ?), so a Container Apps Job
 * (`azure-native:app:Job`) carries the same declaration as tags whose names use ":" where the
 * Kubernetes metadata uses "/": `backup-policy.it-manufactory.de:nas-backup = "true"` and one tag per
 * annotation.
 */
function azureTagName(kubernetesKey: string): string {
    return kubernetesKey.replace(`${prefix}/`, `${prefix}:`);
}

/** The tags a NAS backup Container Apps Job carries: the metadata of `nasBackupMetadata` as Azure tags. */
export function nasBackupTags(declaration: NasBackupDeclaration): Record<string, string> {
    const { labels, annotations } = nasBackupMetadata(declaration);
    return Object.fromEntries(
        Object.entries({ ...labels, ...annotations }).map(([key, value]) => [azureTagName(key), value]),
    );
}

/** Reads a Container Apps Job's tags; `undefined` when it is not tagged as a NAS backup. */
export function readNasBackupTags(tags: unknown): ReadNasBackupDeclaration | undefined {
    if (tags === null || typeof tags !== "object") {
        return undefined;
    }
    const byKubernetesKey = Object.fromEntries(
        [nasBackupLabel.key, ...Object.values(nasBackupAnnotations)].map((key) => [
            key,
            (tags as Record<string, unknown>)[azureTagName(key)],
        ]),
    );
    return readNasBackupDeclaration({ labels: byKubernetesKey, annotations: byKubernetesKey });
}

/**
 * The resource types whose data the NAS backs up, and the properties naming the data: the input
 * name first, then the provider's output `name`.
 */
export const nasBackupTargetTypes: Readonly<
    Record<string, { readonly kind: NasBackupTargetKind; readonly nameProperties: readonly string[] }>
> = Object.freeze({
    "azure-native:dbforpostgresql:Database": { kind: "database", nameProperties: ["databaseName", "name"] },
    "azure-native:storage:FileShare": { kind: "file-share", nameProperties: ["shareName", "name"] },
    "digitalocean:index/databaseDb:DatabaseDb": { kind: "database", nameProperties: ["name"] },
    /** Staging's Documents & Images: DigitalOcean Network File Storage shares, named by their share name. */
    "digitalocean:index/nfs:Nfs": { kind: "file-share", nameProperties: ["name"] },
});

/** Where an existing claim is: the CronJob that backs it up must run in `namespace` and mount `name`. */
export interface ClaimRef {
    readonly namespace: string | undefined;
    readonly name: string | undefined;
}

/** What a resource holds for the NAS: a database or file share, and for an existing claim the claim. */
export interface HeldTarget {
    readonly kind: NasBackupTargetKind;
    readonly name: string | undefined;
    readonly claim?: ClaimRef;
}

function metadataOf(props: Record<string, unknown>): Record<string, unknown> | undefined {
    const metadata = props.metadata;
    return metadata !== null && typeof metadata === "object" ? (metadata as Record<string, unknown>) : undefined;
}

/** The file resource an existing claim's marker declares; `undefined` for a patch without the annotation. */
function claimTargetOf(props: Record<string, unknown>): HeldTarget | undefined {
    const metadata = metadataOf(props);
    const annotations = metadata?.annotations;
    if (annotations === null || typeof annotations !== "object" || !(fileResourceClaimAnnotation in annotations)) {
        return undefined;
    }
    return {
        kind: "file-share",
        name: text(annotations, fileResourceClaimAnnotation),
        claim: { namespace: text(metadata, "namespace"), name: text(metadata, "name") },
    };
}

/**
 * The NAS backup target a resource holds (database or file share), `undefined` for other resources.
 * `props` are the resource's inputs or outputs; a target whose name is not set has name `undefined`.
 */
export function nasBackupTargetOf(type: string, props: Record<string, unknown>): HeldTarget | undefined {
    if (type === fileResourceClaimType) {
        return claimTargetOf(props);
    }
    const target = nasBackupTargetTypes[type];
    if (target === undefined) {
        return undefined;
    }
    for (const property of target.nameProperties) {
        const value = props[property];
        if (typeof value === "string" && value !== "") {
            return { kind: target.kind, name: value };
        }
    }
    return { kind: target.kind, name: undefined };
}

/**
 * True when a CronJob (its props) runs in the claim's namespace and its pods mount the claim
 * read-only: the backup reads that claim's data, not some other volume or nothing.
 */
export function mountsClaimReadOnly(cronJob: Record<string, unknown>, claim: ClaimRef): boolean {
    if (claim.namespace === undefined || claim.name === undefined) return false;
    if (text(metadataOf(cronJob), "namespace") !== claim.namespace) return false;
    const pod = ["spec", "jobTemplate", "spec", "template", "spec"].reduce<unknown>(
        (node, key) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined),
        cronJob,
    ) as { volumes?: unknown } | undefined;
    const volumes = Array.isArray(pod?.volumes) ? (pod.volumes as { persistentVolumeClaim?: unknown }[]) : [];
    return volumes.some((volume) => {
        const source = volume?.persistentVolumeClaim as { claimName?: unknown; readOnly?: unknown } | undefined;
        return source?.claimName === claim.name && source?.readOnly === true;
    });
}

/** True when a declared target is this resource's target. */
export function coversTarget(
    declaration: ReadNasBackupDeclaration,
    target: { kind: NasBackupTargetKind; name: string | undefined },
): boolean {
    return declaration.kind === target.kind && declaration.name !== undefined && declaration.name === target.name;
}
