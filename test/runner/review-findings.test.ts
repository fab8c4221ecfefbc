/**
 * Unit-level tests for correctness findings of the runner review: each one failed before its fix.
 * The restic ones use a real restic 0.14 on a local-path repository (no NAS needed, fast).
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkResticPassword, parseRepositoryBase, type RepositoryLocation } from "../../runner/src/config";
import { pgEnv } from "../../runner/src/postgres";
import { createContext, type Context } from "../../runner/src/context";
import { log, redact, registerSecret, setLogSink } from "../../runner/src/log";
import { prune } from "../../runner/src/prune";
import { ResticRepository } from "../../runner/src/restic";
import { backup, resticTime } from "../../runner/src/backup";
import type { DirectoryManifest } from "../../runner/src/manifest";
import { restoreDirectory } from "../../runner/src/restore";
import { tags, type Backup } from "../../runner/src/snapshots";
import { verify } from "../../runner/src/verify";

const HOUR_MS = 3_600_000;

/** A target repository on a local path, reachable as if the NAS answered the probe. */
class LocalRepository extends ResticRepository {
    override async probe(): Promise<"exists" | "missing"> {
        return "exists";
    }
}

function localContext(dir: string): { ctx: Context; repo: LocalRepository; env: NodeJS.ProcessEnv } {
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        RESTIC_PASSWORD: "review-test-key",
        RESTIC_CACHE_DIR: join(dir, "cache"),
    };
    const location: RepositoryLocation = {
        resticUrl: join(dir, "repo"),
        httpUrl: new URL("http://127.0.0.1:9/t/"),
        display: join(dir, "repo"),
        credentials: { role: "maintenance", user: undefined, password: undefined },
    };
    const repo = new LocalRepository("t", location, { env, cacert: undefined });
    const ctx: Context = {
        env,
        base: () => new URL("http://127.0.0.1:9/"),
        cacert: undefined,
        pushgateway: undefined,
        progressSeconds: 0,
        repository: () => repo,
    };
    return { ctx, repo, env };
}

function restic(env: NodeJS.ProcessEnv, args: string[], input?: string): string {
    const r = spawnSync("restic", args, {
        env: { ...env, TZ: "UTC", RESTIC_REPOSITORY: env.RESTIC_REPOSITORY },
        input,
        encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`restic ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
}

/** Writes a complete backup (data + manifest snapshot) the way backup.ts does; returns both ids. */
function writeBackup(env: NodeJS.ProcessEnv, time: Date, run: string): { data: string; manifest: string } {
    const summary = (out: string): string =>
        (JSON.parse(out.trim().split("\n").pop()!) as { snapshot_id: string }).snapshot_id;
    const common = ["backup", "--stdin", "--host", "t", "--time", resticTime(time), "--json"];
    const data = summary(
        restic(
            env,
            [
                ...common,
                "--stdin-filename",
                "t.pgdump",
                "--tag",
                tags.target("t"),
                "--tag",
                tags.kind("database"),
                "--tag",
                tags.run(run),
                "--tag",
                tags.daily,
            ],
            `dump ${run}`,
        ),
    );
    const manifest = summary(
        restic(
            env,
            [
                ...common,
                "--stdin-filename",
                "manifest.json",
                "--tag",
                tags.target("t"),
                "--tag",
                tags.manifest,
                "--tag",
                tags.run(run),
            ],
            "{}",
        ),
    );
    return { data, manifest };
}

describe("prune on a repository with an unreadable snapshot file", () => {
    let dir: string;
    beforeAll(() => {
        dir = mkdtempSync(join(tmpdir(), "nas-backup-review-"));
        setLogSink(() => undefined);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("refuses to forget anything: restic 0.14 lists the readable snapshots and exits 0, so a complete backup would look incomplete", async () => {
        const { ctx, repo, env } = localContext(dir);
        // The backups ran elsewhere (their own restic cache), as the backup and prune jobs do.
        const resticEnv = {
            ...env,
            RESTIC_REPOSITORY: repo.location.resticUrl,
            RESTIC_CACHE_DIR: join(dir, "backup-cache"),
        };
        restic(resticEnv, ["init", "--repository-version", "2"]);
        const now = new Date();
        const older = writeBackup(resticEnv, new Date(now.getTime() - 72 * HOUR_MS), "r1");
        writeBackup(resticEnv, new Date(now.getTime() - 24 * HOUR_MS), "r2");
        // The manifest snapshot file of the older (complete, 3 days old) backup becomes unreadable.
        const snapshotsDir = join(repo.location.resticUrl, "snapshots");
        const file = join(
            snapshotsDir,
            readdirSync(snapshotsDir).find((f) => f.startsWith(older.manifest))!,
        );
        chmodSync(file, 0o644);
        writeFileSync(file, "not a restic snapshot file any more");

        await expect(prune(ctx, { target: "t", dryRun: false, now })).rejects.toThrow(/could not be read/);
        const left = (
            JSON.parse(
                restic({ ...resticEnv, RESTIC_CACHE_DIR: join(dir, "cache2") }, ["snapshots", "--json", "--no-lock"]),
            ) as { id: string }[]
        ).map((s) => s.id);
        expect(left.filter((id) => id.startsWith(older.data))).toHaveLength(1);
    });
});

describe("plain HTTP and TLS-less PostgreSQL only to a host that is loopback by definition", () => {
    it("refuses *.localhost names: resolvers (glibc, Go) send them to DNS and the search domains, which may answer with a remote address", () => {
        expect(() => parseRepositoryBase("rest:http://nas.localhost:8000/")).toThrow(
            /refusing plain HTTP to nas\.localhost/,
        );
        expect(() => pgEnv({ PGHOST: "db.localhost" })).toThrow(/is not loopback/);
        // Loopback by address or the name localhost itself stays allowed.
        expect(parseRepositoryBase("rest:http://localhost:8000/").hostname).toBe("localhost");
        expect(parseRepositoryBase("rest:http://127.0.0.2:8000/").hostname).toBe("127.0.0.2");
        expect(parseRepositoryBase("rest:http://[::1]:8000/").hostname).toBe("[::1]");
    });
});

describe("verify when the NAS does not answer", () => {
    it("logs the failure with its cause and pushes last_run_success 0 (a stale 1 would tell monitoring the last verify passed)", async () => {
        const pushed: string[] = [];
        const gateway = createServer((req, res) => {
            let body = "";
            req.on("data", (c: Buffer) => (body += c.toString()));
            req.on("end", () => {
                pushed.push(`${req.url}\n${body}`);
                res.end();
            });
        });
        await new Promise<void>((r) => gateway.listen(0, "127.0.0.1", r));
        const lines: string[] = [];
        setLogSink((l) => lines.push(l));
        try {
            const address = gateway.address() as AddressInfo;
            const closedPort = await new Promise<number>((r) => {
                const s = createServer().listen(0, "127.0.0.1", () => {
                    const port = (s.address() as AddressInfo).port;
                    s.close(() => r(port));
                });
            });
            const ctx = createContext(
                { RESTIC_PASSWORD: "review-test-key", NAS_BACKUP_PUSHGATEWAY_URL: `http://127.0.0.1:${address.port}/` },
                { backup: `rest:http://127.0.0.1:${closedPort}/`, maintenance: undefined },
                ["backup"],
            );
            await expect(
                verify(ctx, {
                    target: "t",
                    readDataSubset: "1/7",
                    adminDatabase: "postgres",
                    scratchDirectory: undefined,
                }),
            ).rejects.toThrow(/not reachable/);
            const events = lines.map((l) => JSON.parse(l) as { event: string; level: string; cause?: string });
            expect(events.find((e) => e.event === "verify.failure")).toMatchObject({
                level: "error",
                cause: expect.stringMatching(/NAS not reachable/),
            });
            expect(pushed.some((p) => p.includes("/operation/verify") && /nas_backup_last_run_success 0/.test(p))).toBe(
                true,
            );
        } finally {
            setLogSink(() => undefined);
            await new Promise((r) => gateway.close(r));
        }
    });
});

describe("redaction", () => {
    it("redacts a registered secret also where JSON escaping changed it (quotes, backslashes)", () => {
        const secret = 'Qx"7\\pw-Z';
        registerSecret(secret);
        const lines: string[] = [];
        setLogSink((l) => lines.push(l));
        log("error", "test", { cause: `psql: something echoed ${secret}` });
        setLogSink(() => undefined);
        expect((JSON.parse(lines[0]) as { cause: string }).cause).toBe("psql: something echoed ***");
    });

    it("registers the repository key read from RESTIC_PASSWORD_FILE", () => {
        const dir = mkdtempSync(join(tmpdir(), "nas-backup-review-key-"));
        try {
            writeFileSync(join(dir, "key"), "the-repository-key-1\n");
            checkResticPassword({ RESTIC_PASSWORD_FILE: join(dir, "key") });
            expect(redact("restic said the-repository-key-1")).toBe("restic said ***");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("directory restore with --force (also every directory drill of verify)", () => {
    it("refuses a manifest whose directory is not a clean absolute path, before deleting anything outside the restore directory", async () => {
        const base = mkdtempSync(join(tmpdir(), "nas-backup-review-restore-"));
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

describe("backup --time", () => {
    it("refuses a time in the future: it would be restore's 'latest', the newest for status and prune, while holding older data", async () => {
        const ctx = { repository: () => expect.fail("must not open the repository") } as unknown as Context;
        const future = new Date(Date.now() + 366 * 24 * HOUR_MS);
        await expect(backup(ctx, { target: "t", database: "app", time: future })).rejects.toThrow(/in the future/);
    });
});
