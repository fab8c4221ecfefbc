/**
 * How the runner lays out a backup in a restic repository (one repository per target).
 *
 * A backup is two restic snapshots:
 * - the data snapshot: the dump (`<target>.pgdump`, `pg_dump -Fc -Z0`) or the directory tree, tagged
 *   `target=<name>`, `kind=database|directory`, `run=<uuid of this backup run>` and `daily`;
 * - the manifest snapshot, written only after the data snapshot was committed AND pg_dump (or the
 *   file scan) succeeded: `manifest.json` tagged `manifest`, `target=<name>`, `run=<same uuid>`. It
 *   holds what a restore must reproduce (row counts taken in the dump's own MVCC snapshot). Which
 *   backup is a month's monthly one is not tagged: `classify` (retention.ts) decides it from the
 *   complete backups (older backups' `monthly` tag is ignored).
 *
 * The manifest is the commit record: a data snapshot without a manifest is incomplete and never
 * restored, counted or kept as a backup. (A failed pg_dump leaves no data snapshot at all, see
 * backup.ts; the manifest rule additionally covers a runner killed between restic's commit and the
 * manifest, and a file backup that could not read every file.)
 */

/** One entry of `restic snapshots --json` (the fields the runner uses). */
export interface ResticSnapshot {
    readonly id: string;
    readonly short_id?: string;
    readonly time: string;
    readonly tags?: readonly string[] | null;
    readonly paths?: readonly string[] | null;
    readonly hostname?: string;
}

export type TargetKind = "database" | "directory";

export const tags = {
    daily: "daily",
    manifest: "manifest",
    target: (name: string): string => `target=${name}`,
    kind: (kind: TargetKind): string => `kind=${kind}`,
    /** Links a data snapshot and its manifest: one random id per backup run. */
    run: (runId: string): string => `run=${runId}`,
    /** A restore drill's record (verify): not a backup; its tags carry the measured throughput. */
    drill: "drill",
    drilled: (snapshotId: string): string => `drilled=${snapshotId}`,
    restoreBytes: (bytes: number): string => `restore-bytes=${bytes}`,
    restoreSeconds: (seconds: number): string => `restore-seconds=${seconds}`,
} as const;

/** File name of a drill record inside its snapshot. */
export const drillFileName = "drill.json";

export function isDrillRecord(s: ResticSnapshot): boolean {
    return (s.tags ?? []).includes(tags.drill);
}

/** What a restore drill measured: how many bytes of which backup it restored in how many seconds. */
export interface DrillRecord {
    readonly id: string;
    readonly time: Date;
    /** Data snapshot id of the drilled backup. */
    readonly drilled: string;
    readonly bytes: number;
    readonly seconds: number;
}

/** The newest drill record in a listing, if any. */
export function latestDrill(snapshots: readonly ResticSnapshot[]): DrillRecord | undefined {
    const records = snapshots
        .filter(isDrillRecord)
        .map((s) => ({
            id: s.id,
            time: new Date(s.time),
            drilled: tagValue(s, "drilled") ?? "",
            bytes: Number(tagValue(s, "restore-bytes")),
            seconds: Number(tagValue(s, "restore-seconds")),
        }))
        .filter((r) => r.bytes >= 0 && r.seconds > 0)
        .sort((a, b) => a.time.getTime() - b.time.getTime());
    return records[records.length - 1];
}

/** File name of a database dump inside its snapshot (restic --stdin-filename). */
export function dumpFileName(target: string): string {
    return `${target}.pgdump`;
}
export const manifestFileName = "manifest.json";

/** A data snapshot together with its manifest snapshot, if one was committed. */
export interface Backup {
    /** Full id of the data snapshot. */
    readonly id: string;
    readonly shortId: string;
    readonly time: Date;
    readonly kind: TargetKind | undefined;
    readonly tags: readonly string[];
    /** Full id of the manifest snapshot; undefined = incomplete backup. */
    readonly manifestSnapshotId: string | undefined;
    readonly runId: string | undefined;
    readonly paths: readonly string[];
}

export interface GroupedSnapshots {
    /** Data snapshots (complete or not), oldest first. */
    readonly backups: readonly Backup[];
    /** Manifest snapshots whose data snapshot no longer exists. */
    readonly orphanManifests: readonly ResticSnapshot[];
}

function tagValue(snapshot: ResticSnapshot, key: string): string | undefined {
    const prefix = `${key}=`;
    return (snapshot.tags ?? []).find((t) => t.startsWith(prefix))?.slice(prefix.length);
}

export function isManifestSnapshot(s: ResticSnapshot): boolean {
    return (s.tags ?? []).includes(tags.manifest);
}

/** Pairs data snapshots with their manifests (by the `run=` tag). */
export function groupSnapshots(snapshots: readonly ResticSnapshot[]): GroupedSnapshots {
    const manifestsByRun = new Map<string, ResticSnapshot>();
    for (const s of snapshots) {
        const run = tagValue(s, "run");
        if (isDrillRecord(s)) continue;
        if (isManifestSnapshot(s) && run !== undefined && !manifestsByRun.has(run)) manifestsByRun.set(run, s);
    }
    const runsWithData = new Set<string>();
    const backups: Backup[] = [];
    for (const s of snapshots) {
        if (isManifestSnapshot(s) || isDrillRecord(s)) continue;
        const kind = tagValue(s, "kind");
        const run = tagValue(s, "run");
        // A run has one data snapshot; should a second one claim the same run, it is not complete.
        const manifest = run !== undefined && !runsWithData.has(run) ? manifestsByRun.get(run) : undefined;
        if (run !== undefined) runsWithData.add(run);
        backups.push({
            id: s.id,
            shortId: s.short_id ?? s.id.slice(0, 8),
            time: new Date(s.time),
            kind: kind === "database" || kind === "directory" ? kind : undefined,
            tags: s.tags ?? [],
            manifestSnapshotId: manifest?.id,
            runId: run,
            paths: s.paths ?? [],
        });
    }
    backups.sort((a, b) => a.time.getTime() - b.time.getTime() || a.id.localeCompare(b.id));
    const used = new Set(backups.map((b) => b.manifestSnapshotId).filter((id) => id !== undefined));
    const orphanManifests = snapshots.filter((s) => isManifestSnapshot(s) && !isDrillRecord(s) && !used.has(s.id));
    return { backups, orphanManifests };
}

export function isComplete(b: Backup): boolean {
    return b.manifestSnapshotId !== undefined;
}

/** Which backup to restore: `latest`, or a snapshot id (or unique prefix); optionally the latest before an instant. */
export interface BackupSelector {
    readonly snapshot: string;
    readonly before?: Date;
}

export class SelectionError extends Error {}

/** Picks a complete backup; incomplete ones are never restored. Throws SelectionError saying why not. */
export function selectBackup(snapshots: readonly ResticSnapshot[], selector: BackupSelector): Backup {
    const { backups } = groupSnapshots(snapshots);
    if (selector.snapshot !== "latest") {
        const id = selector.snapshot.toLowerCase();
        const matches = backups.filter((b) => b.id.startsWith(id));
        if (matches.length === 0) throw new SelectionError(`no backup with snapshot id ${selector.snapshot}`);
        if (matches.length > 1)
            throw new SelectionError(
                `snapshot id ${selector.snapshot} is ambiguous (${matches.map((m) => m.shortId).join(", ")})`,
            );
        const [b] = matches;
        if (!isComplete(b))
            throw new SelectionError(
                `snapshot ${b.shortId} is incomplete (no manifest: its dump or file read failed) and cannot be restored`,
            );
        if (selector.before && b.time.getTime() >= selector.before.getTime()) {
            throw new SelectionError(
                `snapshot ${b.shortId} (${b.time.toISOString()}) is not before ${selector.before.toISOString()}`,
            );
        }
        return b;
    }
    const candidates = backups.filter(
        (b) => isComplete(b) && (!selector.before || b.time.getTime() < selector.before.getTime()),
    );
    const latest = candidates[candidates.length - 1];
    if (!latest) {
        throw new SelectionError(
            selector.before
                ? `no complete backup before ${selector.before.toISOString()}`
                : "no complete backup in the repository",
        );
    }
    return latest;
}
