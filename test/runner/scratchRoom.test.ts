/**
 * verify checks the scratch space for room before its drill restores anything (real PostgreSQL,
 * restic 0.14 and `rclone serve restic`): a drill that cannot fit fails at once, naming the target,
 * the bytes needed and available and what to raise. The room offered is capped with --scratch-limit
 * (the option an operator uses for a filesystem other jobs share), so the test needs no small
 * filesystem; the free space itself is the real statfs of the test's directory.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSize, SCRATCH_RESERVE_BYTES, SCRATCH_SERVER_WAL_BYTES } from "../../runner/src/scratch";
import { failureCause, newestManifest, runCli } from "./harness";
import { useRunnerTestbed } from "./testbed";

const work = mkdtempSync(join(tmpdir(), "nas-backup-room-"));
const share = join(work, "documents");
const hint = "raise backup-policy:nasBackup.scratchGiB";

const testbed = useRunnerTestbed(({ pg }) => {
    mkdirSync(join(share, "Rechnungen"), { recursive: true });
    writeFileSync(join(share, "Rechnungen", "2025-001.txt"), "Rechnung 2025-001\n".repeat(1000));
    writeFileSync(join(share, "logo.bin"), Buffer.alloc(300_000, 7));
    writeFileSync(join(share, "leer.txt"), "");
    pg.sql("postgres", "CREATE DATABASE crm");
    pg.sql("crm", "CREATE TABLE kunde AS SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 20000) g");
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The numbers of the room error: [needed, available]. */
function sizes(cause: string): [number, number] {
    const m = /needs (\d+) bytes .*; (\d+) bytes are available/.exec(cause);
    if (!m) throw new Error(`no sizes in ${cause}`);
    return [Number(m[1]), Number(m[2])];
}

describe("verify: room on the scratch space before the drill restores", () => {
    it("refuses a directory drill that cannot fit, after the integrity check, and restores nothing", async () => {
        const backup = await runCli(["backup", "--target", "documents", "--directory", share], testbed.env);
        expect(backup.code, backup.stderr).toBe(0);
        const scratch = join(work, "scratch-files");
        mkdirSync(scratch);
        const args = ["verify", "--target", "documents", "--scratch-directory", scratch, "--json"];

        const tooSmall = await runCli([...args, "--scratch-limit", "64M", "--scratch-hint", hint], testbed.env);
        expect(tooSmall.code).toBe(1);
        const result = JSON.parse(tooSmall.stdout) as { check: { ok: boolean }; drill: { ok: boolean } };
        expect(result.check.ok).toBe(true);
        expect(result.drill.ok).toBe(false);
        const cause = failureCause(tooSmall);
        expect(cause).toMatch(
            new RegExp(
                `^target documents: the restore needs \\d+ bytes on the scratch directory ${scratch} \\(3 files of 318000 bytes.*; \\d+ bytes are available \\(--scratch-limit 67108864\\): nothing was restored; ${hint}$`,
            ),
        );
        const [needed, available] = sizes(cause);
        const block = statfsSync(scratch).bsize;
        expect(needed).toBe(318_000 + 3 * block + SCRATCH_RESERVE_BYTES);
        expect(available).toBe(64 * 1024 * 1024);
        expect(tooSmall.events.some((e) => e.event === "restore.start")).toBe(false);
        expect(readdirSync(scratch)).toEqual([]);

        const roomy = await runCli([...args, "--scratch-limit", "1G"], testbed.env);
        expect(roomy.code, roomy.stderr).toBe(0);
        expect(roomy.events.find((e) => e.event === "verify.drill.room")).toMatchObject({
            target: "documents",
            neededBytes: needed,
            availableBytes: 1024 ** 3,
        });
    });

    it("sizes a database drill from the database's size recorded with the backup plus the scratch server's WAL", async () => {
        const backup = await runCli(["backup", "--target", "crm", "--database", "crm"], testbed.env);
        expect(backup.code, backup.stderr).toBe(0);
        const manifest = newestManifest<{ content: { bytes: number } }>(testbed.nas, "crm");
        const databaseBytes = Number(testbed.pg.sql("postgres", "SELECT pg_database_size('crm')"));
        expect(manifest.content.bytes).toBe(databaseBytes);

        const scratch = join(work, "scratch-db");
        mkdirSync(scratch);
        const args = ["verify", "--target", "crm", "--scratch-directory", scratch];
        const tooSmall = await runCli([...args, "--scratch-limit", "1G", "--scratch-hint", hint], testbed.env);
        expect(tooSmall.code).toBe(1);
        const cause = failureCause(tooSmall);
        expect(cause).toMatch(/^target crm: the restore needs .*the database's \d+ bytes when it was backed up/);
        expect(cause).toMatch(new RegExp(`; ${hint}$`));
        expect(sizes(cause)).toEqual([
            manifest.content.bytes + SCRATCH_SERVER_WAL_BYTES + SCRATCH_RESERVE_BYTES,
            1024 ** 3,
        ]);
        // Nothing was restored: the drill database was never created.
        expect(
            testbed.pg.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'nas_backup_drill_%'"),
        ).toBe("0");

        const roomy = await runCli([...args, "--scratch-limit", "2G"], testbed.env);
        expect(roomy.code, roomy.stderr).toBe(0);
    });

    it("without --scratch-limit counts the filesystem's real free space", async () => {
        const free = statfsSync(work).bavail * statfsSync(work).bsize;
        const r = await runCli(["verify", "--target", "documents", "--scratch-directory", work], testbed.env);
        expect(r.code, r.stderr).toBe(0);
        const room = r.events.find((e) => e.event === "verify.drill.room");
        // Other processes write meanwhile: the same filesystem's free space within 1 GiB.
        expect(Math.abs(Number(room?.availableBytes) - free)).toBeLessThan(1024 ** 3);
    });

    it("reads sizes in binary units and refuses anything else, naming the option", async () => {
        expect(parseSize("scratch-limit", "20G")).toBe(20 * 1024 ** 3);
        expect(parseSize("scratch-limit", "1.5TiB")).toBe(1.5 * 1024 ** 4);
        expect(parseSize("scratch-limit", "4096")).toBe(4096);
        expect(parseSize("scratch-limit", undefined)).toBeUndefined();
        for (const bad of ["0", "-1G", "20 GB of space", "G"]) {
            expect(() => parseSize("scratch-limit", bad)).toThrow(/--scratch-limit .*: expected a size/);
        }
        const r = await runCli(["verify", "--target", "documents", "--scratch-limit", "lots"], testbed.env);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/--scratch-limit lots: expected a size/);
    });
});
