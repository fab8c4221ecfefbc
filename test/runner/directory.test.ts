/** File-share (directory) backups end to end with real restic 0.14 and `rclone serve restic`. */
import { createHash } from "node:crypto";
import { execSync } from "node:child_process";
import {
    chmodSync,
    chownSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    readlinkSync,
    rmSync,
    symlinkSync,
    writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { requireTools, runCli, snapshotsOf, startNas, type Nas } from "./harness";

// Real components: generous limits for slow CI machines (the tests take seconds here).
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

let nas: Nas;
let env: Record<string, string>;
let work: string;
let share: string;

/** Relative path → content hash (files), link target (symlinks) or "dir". */
function tree(root: string, rel = ""): Record<string, string> {
    const out: Record<string, string> = {};
    for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
        const path = join(rel, entry.name);
        const full = join(root, path);
        if (entry.isDirectory()) {
            out[path] = "dir";
            Object.assign(out, tree(root, path));
        } else if (entry.isSymbolicLink()) out[path] = `-> ${readlinkSync(full)}`;
        else out[path] = createHash("sha256").update(readFileSync(full)).digest("hex");
    }
    return out;
}

beforeAll(async () => {
    requireTools();
    nas = await startNas();
    env = { ...nas.env, NAS_BACKUP_PROGRESS_SECONDS: "0" };
    work = mkdtempSync(join(tmpdir(), "nas-backup-files-"));
    chmodSync(work, 0o755);
    share = join(work, "documents");
    mkdirSync(join(share, "Verträge", "2025"), { recursive: true });
    mkdirSync(join(share, "Bilder"));
    writeFileSync(join(share, "Verträge", "2025", "Angebot Müller.txt"), "Sehr geehrte Frau Müller, …\n");
    writeFileSync(
        join(share, "Bilder", "logo.bin"),
        Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 31) % 256)),
    );
    writeFileSync(join(share, "leer.txt"), "");
    symlinkSync("Verträge/2025/Angebot Müller.txt", join(share, "aktuell.txt"));
}, 60_000);

afterAll(async () => {
    await nas?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
});

describe("directory backup and restore", () => {
    it("backs up a directory and restores it identical, refusing a non-empty target directory unless --force", async () => {
        const b = await runCli(["backup", "--target", "documents", "--directory", share, "--json"], env);
        expect(b.code, b.stderr).toBe(0);
        const result = JSON.parse(b.stdout) as { kind: string; bytes: number };
        expect(result).toMatchObject({ kind: "directory" });
        expect(result.bytes).toBe(200_000 + Buffer.byteLength("Sehr geehrte Frau Müller, …\n"));
        const data = snapshotsOf(nas, "documents").find((s) => !s.tags?.includes("manifest"))!;
        expect(data.paths).toEqual([share]);
        expect(data.tags).toEqual(expect.arrayContaining(["target=documents", "kind=directory", "daily"]));

        const into = join(work, "restore");
        const r = await runCli(["restore", "--target", "documents", "--into-directory", into], env);
        expect(r.code, r.stderr).toBe(0);
        expect(r.events.find((e) => e.event === "restore.success")).toMatchObject({ complete: true });
        expect(tree(join(into, share))).toEqual(tree(share));

        const again = await runCli(["restore", "--target", "documents", "--into-directory", into], env);
        expect(again.code).toBe(1);
        expect(String(again.events.find((e) => e.level === "error")?.cause)).toMatch(/not empty.*--force/);
        writeFileSync(join(into, share, "stray.txt"), "not in the backup");
        const forced = await runCli(["restore", "--target", "documents", "--into-directory", into, "--force"], env);
        expect(forced.code, forced.stderr).toBe(0);
        expect(tree(join(into, share))).toEqual(tree(share));
    });

    it("verify restores the latest directory backup into a scratch directory and compares it with the manifest", async () => {
        const scratch = join(work, "scratch");
        mkdirSync(scratch);
        const v = await runCli(
            ["verify", "--target", "documents", "--read-data-subset", "100%", "--scratch-directory", scratch, "--json"],
            env,
        );
        expect(v.code, v.stderr).toBe(0);
        expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, drill: { ok: true, problems: [] } });
        expect(readdirSync(scratch)).toEqual([]);
    });

    it("fails when a file cannot be read (restic exit 3): the partial snapshot never counts as a backup", async () => {
        const secret = join(share, "Verträge", "vertraulich.txt");
        writeFileSync(secret, "geheim\n");
        chmodSync(secret, 0o000);
        const listBefore = JSON.parse(
            (await runCli(["restore", "--target", "documents", "--list", "--json"], env)).stdout,
        ) as unknown[];
        // Root reads everything: run the runner as an unprivileged user then.
        let asUser: { uid: number; gid: number } | undefined;
        const home = mkdtempSync(join(tmpdir(), "nas-backup-home-"));
        if (process.getuid?.() === 0) {
            asUser = {
                uid: Number(execSync("id -u postgres").toString()),
                gid: Number(execSync("id -g postgres").toString()),
            };
            chownSync(home, asUser.uid, asUser.gid);
        }
        try {
            const r = await runCli(
                ["backup", "--target", "documents", "--directory", share],
                { ...env, HOME: home },
                asUser ?? {},
            );
            expect(r.code).toBe(1);
            expect(String(r.events.find((e) => e.event === "backup.failure")?.cause)).toMatch(
                /could not read 1 file\(s\) of .*vertraulich\.txt \(permission denied\).*never counts/,
            );
        } finally {
            chmodSync(secret, 0o644);
            rmSync(home, { recursive: true, force: true });
        }
        // The incomplete snapshot exists (append-only: it cannot be removed until prune) but is not restorable.
        // (The data snapshots: neither manifests nor the record of the drill verify ran above.)
        const data = snapshotsOf(nas, "documents").filter(
            (s) => !s.tags?.some((t) => t === "manifest" || t === "drill"),
        );
        expect(data).toHaveLength(2);
        const listAfter = JSON.parse(
            (await runCli(["restore", "--target", "documents", "--list", "--json"], env)).stdout,
        ) as unknown[];
        expect(listAfter).toEqual(listBefore);
        const status = await runCli(["status", "--target", "documents", "--json"], env);
        expect(JSON.parse(status.stdout)).toMatchObject([{ daily: 1, incomplete: 1 }]);
    });
});
