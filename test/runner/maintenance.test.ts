/**
 * Retention, status, verification, purge, credentials and metrics against real PostgreSQL, restic
 * 0.14 and two `rclone serve restic` endpoints (append-only for backups, full access for maintenance).
 * Each test uses its own targets, so they run concurrently. At the end, in-process: prune on a local
 * repository with an unreadable snapshot file, and verify against a NAS that does not answer.
 */
import { spawn, spawnSync } from "node:child_process";
import {
    chmodSync,
    closeSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    openSync,
    readdirSync,
    readFileSync,
    readSync,
    rmSync,
    statSync,
    writeFileSync,
    writeSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import { resticTime } from "../../runner/src/backup";
import { addMonths, calendarDaysBetween, civilDate, dayNumber, monthKey } from "../../runner/src/calendar";
import type { RepositoryLocation } from "../../runner/src/config";
import { createContext, type Context } from "../../runner/src/context";
import { setLogSink } from "../../runner/src/log";
import { prune } from "../../runner/src/prune";
import { ResticRepository } from "../../runner/src/restic";
import { tags } from "../../runner/src/snapshots";
import { verify } from "../../runner/src/verify";
import { failureCause, freePort, restic, runCli, snapshotsOf, type CliResult } from "./harness";
import { useRunnerTestbed } from "./testbed";

const tz = backupPolicy.nas.timeZone.value;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const testbed = useRunnerTestbed(({ pg }) => {
    pg.sql("postgres", "CREATE DATABASE app");
    pg.sql(
        "app",
        "CREATE TABLE orders (id serial PRIMARY KEY, item text); INSERT INTO orders (item) SELECT 'Bestellung ' || g FROM generate_series(1, 200) g",
    );
});

async function backupAt(target: string, time: Date): Promise<{ snapshot: string }> {
    const r = await runCli(
        ["backup", "--target", target, "--database", "app", "--time", time.toISOString(), "--json"],
        testbed.env,
    );
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { snapshot: string };
}

function filesBelow(dir: string): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? filesBelow(join(dir, e.name)) : [join(dir, e.name)],
    );
}

describe.concurrent("prune", () => {
    it("applies the retention to a simulated history: --dry-run shows the plan and changes nothing, prune then does exactly that", async () => {
        const now = Date.now();
        const daysAgo = [215, 100, 40, 33, 29, 1, 0];
        const made: { id: string; time: Date }[] = [];
        for (const d of daysAgo) {
            const time = new Date(now - d * DAY_MS - 60_000);
            const b = await backupAt("history", time);
            made.push({ id: b.snapshot, time: new Date(Math.floor(time.getTime() / 1000) * 1000) });
        }
        const snapshotsBefore = snapshotsOf(testbed.nas, "history");
        expect(snapshotsBefore).toHaveLength(daysAgo.length * 2);

        const dry = await runCli(["prune", "--target", "history", "--dry-run", "--json"], testbed.env);
        expect(dry.code, dry.stderr).toBe(0);
        expect(snapshotsOf(testbed.nas, "history")).toHaveLength(snapshotsBefore.length);
        const plan = JSON.parse(dry.stdout) as {
            decisions: { snapshotId: string; role: string; action: string; reasons: string[] }[];
        };
        const text = await runCli(["prune", "--target", "history", "--dry-run"], testbed.env);
        expect(text.stdout).toMatch(/^\(dry run: nothing deleted\)/);
        expect(text.stdout).toMatch(/keep +[0-9a-f]{8} .*daily backup/);
        expect(text.stdout).toMatch(/delete +[0-9a-f]{8} .*older than/);

        // `restore --list` names the monthly backups (no tag: decided from the complete backups).
        const listed = JSON.parse(
            (await runCli(["restore", "--target", "history", "--list", "--json"], testbed.env)).stdout,
        ) as { snapshot: string; monthly: boolean }[];
        // Expectations from the policy, in the Berlin calendar.
        const today = civilDate(new Date(), tz);
        const firstOfMonth = new Map<string, string>();
        for (const m of made)
            if (!firstOfMonth.has(monthKey(civilDate(m.time, tz))))
                firstOfMonth.set(monthKey(civilDate(m.time, tz)), m.id);
        for (const m of made) {
            const c = civilDate(m.time, tz);
            const daily = calendarDaysBetween(c, today) <= backupPolicy.nas.dailyRetentionDays.value;
            const monthly =
                firstOfMonth.get(monthKey(c)) === m.id &&
                dayNumber(today) <= dayNumber(addMonths(c, backupPolicy.nas.monthlyRetentionMonths.value));
            const decision = plan.decisions.find((d) => d.snapshotId.startsWith(m.id) && d.role === "data")!;
            expect(
                listed.find((l) => l.snapshot.startsWith(m.id))?.monthly,
                `${m.time.toISOString()} listed monthly`,
            ).toBe(firstOfMonth.get(monthKey(c)) === m.id);
            expect(decision.action, `${m.time.toISOString()}: ${decision.reasons.join("; ")}`).toBe(
                daily || monthly ? "keep" : "delete",
            );
        }
        const toDelete = plan.decisions.filter((d) => d.action === "delete").map((d) => d.snapshotId);
        expect(toDelete.length).toBeGreaterThanOrEqual(2); // at least 215 days ago and one more, each with its manifest

        const pruned = await runCli(["prune", "--target", "history"], testbed.env);
        expect(pruned.code, pruned.stderr).toBe(0);
        expect(pruned.events.find((e) => e.event === "prune.success")).toMatchObject({ deleted: toDelete.length });
        const after = snapshotsOf(testbed.nas, "history").map((s) => s.id);
        expect(after.sort()).toEqual(
            snapshotsBefore
                .map((s) => s.id)
                .filter((id) => !toDelete.includes(id))
                .sort(),
        );
        const check = restic(["check"], testbed.nas.resticEnv("history", "maintenance"));
        expect(check.status, check.stderr).toBe(0);
    });
});

describe.concurrent("status", () => {
    it(`reports the newest backup's age against the RPO of ${backupPolicy.rpoHours.value} h and exits 3 when it is older`, async () => {
        await backupAt("stale", new Date(Date.now() - (backupPolicy.rpoHours.value + 1) * 3_600_000));
        const stale = await runCli(["status", "--target", "stale", "--target", "never", "--json"], testbed.env);
        expect(stale.code).toBe(3);
        const rows = JSON.parse(stale.stdout) as {
            target: string;
            withinRpo: boolean;
            ageHours: number;
            daily: number;
            monthly: number;
            oldestMonthly: string;
            error?: string;
        }[];
        expect(rows[0]).toMatchObject({ target: "stale", withinRpo: false, daily: 1, monthly: 1 });
        expect(rows[0].ageHours).toBeGreaterThan(backupPolicy.rpoHours.value);
        expect(rows[1]).toMatchObject({
            target: "never",
            withinRpo: false,
            error: expect.stringMatching(/never backed up/),
        });

        await backupAt("stale", new Date());
        const fresh = await runCli(["status", "--target", "stale"], testbed.env);
        expect(fresh.code, fresh.stderr).toBe(0);
        expect(fresh.stdout).toMatch(/^TARGET +NEWEST \(UTC\)/);
        expect(fresh.stdout).toMatch(/\nstale +\S+ +0\.\d +ok +2 +[12] /);
    });
});

describe.concurrent("verify", () => {
    it("passes check and restore drill on a healthy repository, and fails when a pack file on the NAS is corrupted", async () => {
        await backupAt("verified", new Date());
        const ok = await runCli(
            ["verify", "--target", "verified", "--read-data-subset", "100%", "--json"],
            testbed.env,
        );
        expect(ok.code, ok.stderr).toBe(0);
        const result = JSON.parse(ok.stdout) as {
            ok: boolean;
            check: { ok: boolean };
            drill: { ok: boolean; problems: string[]; durationSeconds: number; rtoSeconds: number; withinRto: boolean };
        };
        expect(result).toMatchObject({
            ok: true,
            check: { ok: true },
            drill: { ok: true, problems: [], withinRto: true, rtoSeconds: backupPolicy.rtoHours.value * 3600 },
        });
        expect(result.drill.durationSeconds).toBeGreaterThan(0);
        expect(ok.events.map((e) => e.event)).toEqual(
            expect.arrayContaining(["verify.check.success", "verify.drill.success", "verify.success"]),
        );
        // The scratch database is gone again.
        expect(
            testbed.pg.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'nas_backup_drill%'"),
        ).toBe("0");

        // Flip bytes in the middle of the largest pack file (the dump's data).
        const packs = filesBelow(join(testbed.nas.dir, "verified", "data")).sort(
            (a, b) => statSync(b).size - statSync(a).size,
        );
        const fd = openSync(packs[0], "r+");
        const at = Math.floor(statSync(packs[0]).size / 2);
        const buf = Buffer.alloc(64);
        readSync(fd, buf, 0, 64, at);
        for (let i = 0; i < buf.length; i++) buf[i] ^= 0xff;
        writeSync(fd, buf, 0, 64, at);
        closeSync(fd);

        const bad = await runCli(["verify", "--target", "verified", "--read-data-subset", "100%"], testbed.env);
        expect(bad.code).toBe(1);
        expect(bad.stdout).toMatch(/verify verified: FAILED/);
        expect(bad.events.find((e) => e.event === "verify.check.failure")).toBeDefined();
        expect(bad.events.find((e) => e.event === "verify.failure")).toBeDefined();
    });
});

/** Purges a target with confirmation, reason, operator and audit file; the --json record. */
async function purgeConfirmed(target: string, reason: string, auditFile: string): Promise<CliResult> {
    return runCli(
        [
            "purge",
            "--target",
            target,
            "--confirm",
            target,
            "--reason",
            reason,
            "--operator",
            "j.doe",
            "--audit-file",
            auditFile,
            "--json",
        ],
        testbed.env,
    );
}

/** No snapshot and no pack file of the target remain; its index lists no pack. */
function expectPurged(target: string): void {
    expect(snapshotsOf(testbed.nas, target)).toEqual([]);
    for (const dir of ["data", "snapshots"]) {
        expect(filesBelow(join(testbed.nas.dir, target, dir)), dir).toEqual([]);
    }
    // What remains is the repository's config, key and an index that lists no pack.
    for (const index of filesBelow(join(testbed.nas.dir, target, "index"))) {
        const content = restic(["cat", "index", index.split("/").pop()!], testbed.nas.resticEnv(target, "maintenance"));
        expect(JSON.parse(content.stdout)).toMatchObject({ packs: [] });
    }
}

interface PurgeRecord {
    target: string;
    operator: string;
    reason: string;
    deletedSnapshots: unknown[];
    completedAt: string;
    clause: string;
}

/** The audit record names what, when, who and why, in the audit file and on the NAS. */
function expectAuditRecord(stdout: string, auditFile: string): void {
    const record = JSON.parse(stdout) as PurgeRecord;
    expect(record).toMatchObject({
        target: "customer-a",
        operator: "j.doe",
        reason: "ticket 42: contract ended",
        clause: backupPolicy.deletionRequestDays.clause,
    });
    expect(record.deletedSnapshots).toHaveLength(4);
    expect(JSON.parse(readFileSync(auditFile, "utf8").trim())).toEqual(record);
    // The audit record is also kept on the NAS.
    const audit = restic(
        ["dump", "latest", `/purge-customer-a-${record.completedAt.replace(/[:.]/g, "")}.json`],
        testbed.nas.resticEnv("_audit", "maintenance"),
    );
    expect(audit.status, audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toEqual(record);
}

describe.concurrent("purge (§2.12)", () => {
    it("deletes every snapshot and pack file of one target, leaves the others, and records what, when, who and why", async () => {
        for (const target of ["customer-a", "customer-b"]) {
            await backupAt(target, new Date(Date.now() - DAY_MS));
            await backupAt(target, new Date());
        }
        const unconfirmed = await runCli(["purge", "--target", "customer-a", "--reason", "ticket 42"], testbed.env);
        expect(unconfirmed.code).toBe(2);
        expect(snapshotsOf(testbed.nas, "customer-a")).toHaveLength(4);

        const auditFile = join(testbed.nas.dir, "..", "audit.jsonl");
        const r = await purgeConfirmed("customer-a", "ticket 42: contract ended", auditFile);
        expect(r.code, r.stderr).toBe(0);
        expectPurged("customer-a");
        expect(snapshotsOf(testbed.nas, "customer-b")).toHaveLength(4);
        expect(restic(["check"], testbed.nas.resticEnv("customer-b", "maintenance")).status).toBe(0);
        expectAuditRecord(r.stdout, auditFile);
    });

    it("refuses a target that has no repository (a mistyped name): nothing deleted, no audit record", async () => {
        await backupAt("customer-c", new Date());
        const auditFile = join(testbed.nas.dir, "..", "audit-typo.jsonl");
        const r = await runCli(
            [
                "purge",
                "--target",
                "customer-cc",
                "--confirm",
                "customer-cc",
                "--reason",
                "ticket 43",
                "--operator",
                "j.doe",
                "--audit-file",
                auditFile,
            ],
            testbed.env,
        );
        expect(r.code).toBe(1);
        expect(failureCause(r)).toMatch(
            /there is no repository for target customer-cc .*nothing was deleted and no audit record was written/,
        );
        expect(existsSync(auditFile)).toBe(false);
        expect(snapshotsOf(testbed.nas, "customer-c")).toHaveLength(2);
    });
});

describe.concurrent("credentials", () => {
    it("the append-only backup credentials cannot delete anything", async () => {
        await backupAt("guarded", new Date());
        const [snapshot] = snapshotsOf(testbed.nas, "guarded");
        const backupEnv = testbed.nas.resticEnv("guarded", "backup");
        // The REST server refuses the DELETE outright…
        const url = new URL(backupEnv.RESTIC_REPOSITORY.slice("rest:".length));
        const status = await fetch(`http://127.0.0.1:${url.port}/guarded/snapshots/${snapshot.id}`, {
            method: "DELETE",
            headers: {
                authorization: `Basic ${Buffer.from(`backup:${testbed.nas.backupPassword}`).toString("base64")}`,
            },
        }).then((res) => res.status);
        expect(status).toBe(403);
        // …and so restic's forget fails (it retries for a while; stop it after the first refusal).
        const forget = spawn("restic", ["forget", snapshot.id], {
            env: { PATH: process.env.PATH, HOME: process.env.HOME, ...backupEnv },
        });
        let stderr = "";
        await new Promise<void>((resolve) => {
            forget.stderr.on("data", (c: Buffer) => {
                stderr += c.toString();
                if (/403 Forbidden/.test(stderr)) forget.kill("SIGKILL");
            });
            forget.on("close", () => resolve());
        });
        expect(stderr).toMatch(/403 Forbidden/);
        expect(snapshotsOf(testbed.nas, "guarded").map((s) => s.id)).toContain(snapshot.id);
    });
});

describe.concurrent("TLS to the NAS", () => {
    it("backs up over https with the NAS's CA certificate (NAS_BACKUP_CACERT) and refuses an unknown certificate", async () => {
        const dir = join(testbed.nas.dir, "..", "tls");
        mkdirSync(dir);
        const cert = join(dir, "cert.pem");
        const key = join(dir, "key.pem");
        const r = spawnSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                key,
                "-out",
                cert,
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ],
            { encoding: "utf8" },
        );
        expect(r.status, `openssl (install openssl): ${r.stderr}`).toBe(0);
        const base = await testbed.nas.startTlsBackupEndpoint(cert, key);

        const unknown = await runCli(["backup", "--target", "tls", "--database", "app"], {
            ...testbed.env,
            NAS_BACKUP_REPOSITORY_BASE: base,
        });
        expect(unknown.code).toBe(1);
        expect(failureCause(unknown)).toMatch(
            /NAS not reachable at rest:https:\/\/127\.0\.0\.1:\d+\/tls\/: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED|UNABLE_TO_VERIFY)/,
        );

        const trusted = { ...testbed.env, NAS_BACKUP_REPOSITORY_BASE: base, NAS_BACKUP_CACERT: cert };
        const ok = await runCli(["backup", "--target", "tls", "--database", "app"], trusted);
        expect(ok.code, ok.stderr).toBe(0);
        const st = await runCli(["status", "--target", "tls"], trusted);
        expect(st.code, st.stderr).toBe(0);
    });
});

describe.concurrent("Pushgateway metrics", () => {
    let server: Server;
    let gateway: string;
    const pushes: { method: string; url: string; body: string }[] = [];
    beforeAll(async () => {
        server = createServer((req, res) => {
            let body = "";
            req.on("data", (c: Buffer) => (body += c.toString()));
            req.on("end", () => {
                pushes.push({ method: req.method ?? "", url: req.url ?? "", body });
                res.writeHead(200).end();
            });
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const address = server.address();
        gateway = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    function metric(body: string, name: string): number {
        const m = new RegExp(`^${name} (\\S+)$`, "m").exec(body);
        return m ? Number(m[1]) : NaN;
    }

    it("pushes last success, duration and bytes added per target, and the failure time when a backup fails", async () => {
        const ok = await runCli(["backup", "--target", "metered", "--database", "app", "--json"], {
            ...testbed.env,
            NAS_BACKUP_PUSHGATEWAY_URL: gateway,
        });
        expect(ok.code, ok.stderr).toBe(0);
        const result = JSON.parse(ok.stdout) as { bytesStored: number; bytesNew: number; durationSeconds: number };
        const push = pushes.find((p) => p.url === "/metrics/job/nas_backup/target/metered/operation/backup")!;
        expect(push.method).toBe("POST");
        expect(
            Math.abs(metric(push.body, "nas_backup_last_success_timestamp_seconds") - Date.now() / 1000),
        ).toBeLessThan(60);
        expect(metric(push.body, "nas_backup_bytes_stored")).toBe(result.bytesStored);
        expect(metric(push.body, "nas_backup_bytes_new_uncompressed")).toBe(result.bytesNew);
        expect(metric(push.body, "nas_backup_duration_seconds")).toBe(result.durationSeconds);
        expect(metric(push.body, "nas_backup_last_run_success")).toBe(1);

        pushes.length = 0;
        const failed = await runCli(["backup", "--target", "metered", "--database", "app"], {
            ...testbed.env,
            NAS_BACKUP_PUSHGATEWAY_URL: gateway,
            PGPORT: String(await freePort()),
        });
        expect(failed.code).toBe(1);
        expect(metric(pushes[0].body, "nas_backup_last_run_success")).toBe(0);
        expect(metric(pushes[0].body, "nas_backup_last_failure_timestamp_seconds")).toBeGreaterThan(0);
        expect(pushes[0].body).not.toMatch(/last_success/);

        // An unreachable Pushgateway does not fail the backup.
        const unreachable = await runCli(["backup", "--target", "metered", "--database", "app"], {
            ...testbed.env,
            NAS_BACKUP_PUSHGATEWAY_URL: `http://127.0.0.1:${await freePort()}`,
        });
        expect(unreachable.code, unreachable.stderr).toBe(0);
        expect(unreachable.events.find((e) => e.event === "metrics.push_failed")).toBeDefined();
        expect(failureCause(failed)).toMatch(/database app/);
    });
});

// In-process prune and verify on a local restic repository or an unreachable NAS; not concurrent
// with the others because they capture the process-wide log sink.

/** A target repository on a local path, reachable as if the NAS answered the probe. */
class LocalRepository extends ResticRepository {
    override async open(): Promise<"exists" | "missing"> {
        return "exists";
    }
}

function localContext(dir: string): { ctx: Context; repo: LocalRepository; env: NodeJS.ProcessEnv } {
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        RESTIC_PASSWORD: "local-test-key",
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
        nasTimeoutSeconds: 60,
        repository: () => repo,
    };
    return { ctx, repo, env };
}

/** restic on a local repository; throws with its stderr unless it exits 0. */
function resticLocal(env: NodeJS.ProcessEnv, args: string[], input?: string): string {
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
        resticLocal(
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
        resticLocal(
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
        dir = mkdtempSync(join(tmpdir(), "nas-backup-prune-unreadable-"));
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
        resticLocal(resticEnv, ["init", "--repository-version", "2"]);
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
                resticLocal({ ...resticEnv, RESTIC_CACHE_DIR: join(dir, "cache2") }, [
                    "snapshots",
                    "--json",
                    "--no-lock",
                ]),
            ) as { id: string }[]
        ).map((s) => s.id);
        expect(left.filter((id) => id.startsWith(older.data))).toHaveLength(1);
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
                { RESTIC_PASSWORD: "local-test-key", NAS_BACKUP_PUSHGATEWAY_URL: `http://127.0.0.1:${address.port}/` },
                { backup: `rest:http://127.0.0.1:${closedPort}/`, maintenance: undefined },
                ["backup"],
            );
            await expect(
                verify(ctx, {
                    target: "t",
                    readDataSubset: "1/7",
                    adminDatabase: "postgres",
                    scratchDirectory: undefined,
                    rtoShare: 0.5,
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
