/**
 * `restore --into-directory … --force` (and every directory drill of `verify`) replaces what is at
 * the landing place only with a complete restore: a restore that fails or comes back incomplete
 * leaves the old contents as they were. restic itself is stood in for here (it would restore the
 * snapshot below its --target); the real round trip is in directory.test.ts. A manifest that points
 * outside the landing place is refused before anything is touched.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DirectoryManifest } from "../../runner/src/manifest";
import type { ResticRepository } from "../../runner/src/restic";
import { restoreDirectory } from "../../runner/src/restore";
import type { Backup } from "../../runner/src/snapshots";

const shareDirectory = "/mnt/share";
const backup = { id: "a".repeat(64), shortId: "aaaaaaaa", time: new Date("2026-11-01T01:00:00Z") } as Backup;
/** The backup: two files, 10 bytes. */
const manifest: DirectoryManifest = {
    format: 1,
    kind: "directory",
    target: "documents",
    run: "r",
    time: backup.time.toISOString(),
    dataSnapshot: backup.shortId,
    directory: shareDirectory,
    files: 2,
    bytes: 10,
};

/** Stands in for restic: writes `files` below <--target>/<original path>, then fails if asked to. */
function standInRestic(files: Record<string, string>, failure?: string): ResticRepository {
    return {
        target: "documents",
        run: async (_what: string, args: string[]) => {
            const target = args[args.indexOf("--target") + 1];
            for (const [name, content] of Object.entries(files)) {
                mkdirSync(join(target, shareDirectory), { recursive: true });
                writeFileSync(join(target, shareDirectory, name), content);
            }
            if (failure) throw new Error(failure);
            return { stdout: "", stderr: "" };
        },
    } as unknown as ResticRepository;
}

let into: string;
let landing: string;

beforeEach(() => {
    into = mkdtempSync(join(tmpdir(), "nas-backup-directory-restore-"));
    landing = join(into, shareDirectory);
    mkdirSync(landing, { recursive: true });
    writeFileSync(join(landing, "current.txt"), "today's document");
});

afterEach(() => rmSync(into, { recursive: true, force: true }));

describe("directory restore with --force", () => {
    it("replaces the landing place with exactly the backup once the restore is complete", async () => {
        const outcome = await restoreDirectory(
            standInRestic({ "a.txt": "12345", "b.txt": "67890" }),
            backup,
            manifest,
            into,
            true,
        );
        expect(outcome.problems).toEqual([]);
        expect(readdirSync(landing).sort()).toEqual(["a.txt", "b.txt"]);
        expect(readFileSync(join(landing, "a.txt"), "utf8")).toBe("12345");
    });

    it("leaves the old contents untouched when restic fails mid-way", async () => {
        await expect(
            restoreDirectory(standInRestic({ "a.txt": "12345" }, "NAS went away"), backup, manifest, into, true),
        ).rejects.toThrow(/NAS went away/);
        expect(readdirSync(landing)).toEqual(["current.txt"]);
        expect(readFileSync(join(landing, "current.txt"), "utf8")).toBe("today's document");
    });

    it("leaves the old contents untouched when the restored tree does not match the manifest", async () => {
        const outcome = await restoreDirectory(standInRestic({ "a.txt": "12345" }), backup, manifest, into, true);
        expect(outcome.problems).toEqual([
            expect.stringMatching(
                /restored 1 files \(5 bytes\); the manifest says 2 files \(10 bytes\); .* was left as it was/,
            ),
        ]);
        expect(readdirSync(landing)).toEqual(["current.txt"]);
    });

    it("without --force refuses a non-empty directory and touches nothing", async () => {
        await expect(
            restoreDirectory(standInRestic({ "a.txt": "12345", "b.txt": "67890" }), backup, manifest, into, false),
        ).rejects.toThrow(/is not empty/);
        expect(readdirSync(landing)).toEqual(["current.txt"]);
        expect(existsSync(join(landing, "a.txt"))).toBe(false);
    });

    it("refuses a manifest whose directory is not a clean absolute path, before deleting anything outside the restore directory", async () => {
        const base = mkdtempSync(join(tmpdir(), "nas-backup-restore-outside-"));
        try {
            const into = join(base, "x", "into");
            mkdirSync(join(base, "victim"), { recursive: true });
            writeFileSync(join(base, "victim", "keep.txt"), "must survive");
            const calls: string[][] = [];
            const repo = {
                target: "docs",
                run: async (_what: string, args: string[]) => void calls.push(args),
            } as unknown as ResticRepository;
            const backup = { id: "f".repeat(64), shortId: "ffffffff", time: new Date() } as Backup;
            // A manifest written with stolen append-only credentials and key, or simply corrupted.
            const manifest: DirectoryManifest = {
                format: 1,
                kind: "directory",
                target: "docs",
                run: "r",
                time: new Date().toISOString(),
                dataSnapshot: "ffffffff",
                directory: "/../../victim",
                files: 1,
                bytes: 12,
            };
            await expect(restoreDirectory(repo, backup, manifest, into, true)).rejects.toThrow(/directory/);
            expect(existsSync(join(base, "victim", "keep.txt"))).toBe(true);
            expect(calls).toEqual([]);
        } finally {
            rmSync(base, { recursive: true, force: true });
        }
    });
});
