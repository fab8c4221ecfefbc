/**
 * Room on the scratch space of a restore drill, checked before anything is restored: a drill that
 * cannot fit fails at once with the sizes, instead of hours later with "No space left on device".
 */
import { statfs } from "node:fs/promises";
import type { Manifest } from "./manifest";
import { OperationError, UsageError } from "./proc";

/** Left free on the scratch filesystem for its other users (logs, the scratch server's files). */
export const SCRATCH_RESERVE_BYTES = 64 * 1024 * 1024;

/**
 * WAL the scratch server keeps while the drill restores: PostgreSQL's default max_wal_size (1 GB) is
 * the soft limit of WAL between checkpoints; the restored data come on top.
 */
export const SCRATCH_SERVER_WAL_BYTES = 1024 * 1024 * 1024;

export interface RoomNeeded {
    readonly bytes: number;
    /** How the figure was reached, for the error message. */
    readonly basis: string;
}

/**
 * What restoring a backup needs on its scratch filesystem. A directory: its files' bytes plus one
 * block per file (the last block of a file is never shared). A database: its size on the server it
 * was backed up from (`pg_database_size`, recorded with the backup; the restored copy has no bloat, so
 * no more) plus the scratch server's WAL; backups made before the size was recorded only tell the
 * dump's size, a lower bound (the dump is compressed and holds no indexes).
 */
export function roomNeeded(manifest: Manifest, blockSize: number, scratchServer: boolean): RoomNeeded {
    if (manifest.kind === "directory") {
        return {
            bytes: manifest.bytes + manifest.files * blockSize + SCRATCH_RESERVE_BYTES,
            basis: `${manifest.files} files of ${manifest.bytes} bytes, one ${blockSize}-byte block per file and ${SCRATCH_RESERVE_BYTES} bytes to spare`,
        };
    }
    const wal = scratchServer ? SCRATCH_SERVER_WAL_BYTES : 0;
    const walText = scratchServer ? `, ${wal} bytes of the scratch server's WAL` : "";
    const recorded = manifest.content.bytes;
    return recorded === undefined
        ? {
              bytes: manifest.dump.bytes + wal + SCRATCH_RESERVE_BYTES,
              basis: `at least the dump's ${manifest.dump.bytes} bytes (this backup does not record the database's size)${walText} and ${SCRATCH_RESERVE_BYTES} bytes to spare`,
          }
        : {
              bytes: recorded + wal + SCRATCH_RESERVE_BYTES,
              basis: `the database's ${recorded} bytes when it was backed up${walText} and ${SCRATCH_RESERVE_BYTES} bytes to spare`,
          };
}

const UNITS: Readonly<Record<string, number>> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A size: whole bytes, or a number with K, M, G or T (binary: 1G = 2^30 bytes; "GiB" also accepted). */
export function parseSize(flag: string, value: string | undefined): number | undefined {
    if (value === undefined || value === "") return undefined;
    const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value.trim());
    const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2].toUpperCase()]) : NaN;
    if (!Number.isSafeInteger(bytes) || bytes < 1)
        throw new UsageError(`--${flag} ${value}: expected a size such as 500M, 20G or 1T (binary units), or bytes`);
    return bytes;
}

export interface ScratchRoomOptions {
    readonly target: string;
    readonly directory: string;
    readonly manifest: Manifest;
    /** The scratch server keeps its data directory on this filesystem (a database drill). */
    readonly scratchServer: boolean;
    /** Count at most this many bytes as available (--scratch-limit), e.g. a filesystem other jobs share. */
    readonly limitBytes?: number;
    /** What the operator can do when it is too small (--scratch-hint), e.g. raise the stack configuration key that sizes it. */
    readonly hint?: string;
}

/** The scratch filesystem's room: free bytes (for an unprivileged user), at most `limitBytes`. */
export async function scratchRoom(directory: string, limitBytes?: number): Promise<{ free: number; bsize: number }> {
    const fs = await statfs(directory).catch((e: NodeJS.ErrnoException) => {
        throw new OperationError(`scratch directory ${directory} is not usable: ${e.code ?? e.message}`);
    });
    const free = fs.bavail * fs.bsize;
    return { free: limitBytes === undefined ? free : Math.min(free, limitBytes), bsize: fs.bsize };
}

/** Refuses a drill whose restore cannot fit on the scratch filesystem; returns the room it found. */
export async function checkScratchRoom(options: ScratchRoomOptions): Promise<{ needed: number; available: number }> {
    const { target, directory } = options;
    const room = await scratchRoom(directory, options.limitBytes);
    const needed = roomNeeded(options.manifest, room.bsize, options.scratchServer);
    if (room.free < needed.bytes) {
        const limited = options.limitBytes === undefined ? "" : ` (--scratch-limit ${options.limitBytes})`;
        const todo = options.hint ?? "free space on that filesystem, or pass another --scratch-directory";
        throw new OperationError(
            `target ${target}: the restore needs ${needed.bytes} bytes on the scratch directory ${directory} (${needed.basis}); ${room.free} bytes are available${limited}: nothing was restored; ${todo}`,
        );
    }
    return { needed: needed.bytes, available: room.free };
}
