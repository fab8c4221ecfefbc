/** The manifest: what a backup contains, written as the commit record of the backup (see snapshots.ts). */
import type { DatabaseContent } from "./content";
import type { RoleDefinitions } from "./roles";
import type { TargetKind } from "./snapshots";

interface ManifestBase {
    readonly format: 1;
    readonly target: string;
    readonly kind: TargetKind;
    readonly run: string;
    /** Time recorded for the backup (snapshot time), ISO 8601. */
    readonly time: string;
    /** Short id of the data snapshot (the one restic's backup summary gives). */
    readonly dataSnapshot: string;
}

export interface DatabaseManifest extends ManifestBase {
    readonly kind: "database";
    /** The exported MVCC snapshot pg_dump and the row counts shared. */
    readonly pgSnapshot: string;
    readonly dump: {
        readonly bytes: number;
        /**
         * Of the whole dump; only in manifests made before 2026-11-28. Since then pg_dump writes into
         * restic directly, and a restore reads the dump of the data snapshot the manifest names, which
         * restic verifies blob by blob.
         */
        readonly sha256?: string;
        readonly format: "custom";
        readonly pgDumpVersion: string;
    };
    readonly content: DatabaseContent;
    /** The server's roles (pg_dumpall --globals-only --no-role-passwords); absent in backups made before they were recorded. */
    readonly roles?: RoleDefinitions;
}

export interface DirectoryManifest extends ManifestBase {
    readonly kind: "directory";
    readonly directory: string;
    /** Regular files and their total size, as restic read them. */
    readonly files: number;
    readonly bytes: number;
}

export type Manifest = DatabaseManifest | DirectoryManifest;

export function parseManifest(text: string): Manifest {
    const m = JSON.parse(text) as Manifest;
    if (m.format !== 1 || (m.kind !== "database" && m.kind !== "directory")) throw new Error("unknown manifest format");
    return m;
}

/** The size of what a backup holds: the dump, or the files read. */
export function manifestBytes(m: Manifest): number {
    return m.kind === "database" ? m.dump.bytes : m.bytes;
}
