/**
 * Database backups end to end with real PostgreSQL, restic 0.14 and `rclone serve restic`:
 * round trip, restore selection, and the failure cases of issue 3. Every test has its own targets,
 * so they run concurrently.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import {
    failureCause,
    freePort,
    holdLock,
    processesMatching,
    restic,
    resticOnPath,
    runCli,
    snapshotsOf,
    startCli,
    type CliResult,
} from "./harness";
import { useRunnerTestbed } from "./testbed";

let slowEnv: Record<string, string>;

const testbed = useRunnerTestbed(async ({ pg, nas, env }) => {
    pg.sql("postgres", "CREATE DATABASE shop");
    pg.sql(
        "shop",
        `
        CREATE SCHEMA sales;
        CREATE SCHEMA "Lager ü";
        CREATE TABLE sales.customer (id bigserial PRIMARY KEY, name text NOT NULL, city text);
        INSERT INTO sales.customer (name, city) SELECT 'Kunde ' || g || ' Müller-Łódź 日本 🚗', 'Köln' FROM generate_series(1, 500) g;
        CREATE TABLE "Lager ü"."Artikel" (nr int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, bezeichnung text, preis numeric(10,2), daten jsonb);
        INSERT INTO "Lager ü"."Artikel" (bezeichnung, preis, daten) SELECT 'Schraube Ø' || g, g * 1.25, jsonb_build_object('größe', g, 'tags', jsonb_build_array('ä', 'ß')) FROM generate_series(1, 300) g;
        CREATE SEQUENCE public.invoice_no START 1000;
        SELECT nextval('public.invoice_no') FROM generate_series(1, 7);
        CREATE TABLE public.docs (id serial PRIMARY KEY, title text, content oid);
        INSERT INTO public.docs (title, content) SELECT 'Dokument ' || g, lo_from_bytea(0, convert_to(repeat('Größe ' || g || E'\\n', 1000), 'UTF8')) FROM generate_series(1, 5) g;
        CREATE TABLE public.empty_table (x int);
        CREATE VIEW sales.customer_count AS SELECT count(*) AS n FROM sales.customer;
        CREATE FUNCTION sales.greeting(name text) RETURNS text LANGUAGE sql AS $$ SELECT 'Grüß Gott, ' || name $$;
        `,
    );
    // ~100 MB of text (~50 MB after restic's compression) behind a 1 MB/s NAS: more than restic holds in
    // flight (5 REST connections of 4 MiB packs), so pg_dump is held mid-stream by backpressure for many
    // seconds. With ~30 MB, a fast pg_dump could finish into restic's buffers before the kill.
    pg.sql("postgres", "CREATE DATABASE big");
    pg.sql(
        "big",
        "CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) AS payload FROM generate_series(1, 1000000) g",
    );
    pg.sql("postgres", "CREATE DATABASE big2 TEMPLATE big");
    pg.sql("postgres", "CREATE DATABASE big3 TEMPLATE big");
    pg.sql("postgres", "CREATE DATABASE big4 TEMPLATE big");
    const slow = await nas.startSlowBackupEndpoint("1M");
    slowEnv = { ...env, NAS_BACKUP_REPOSITORY_BASE: slow, NAS_BACKUP_PROGRESS_SECONDS: "0.1", RESTIC_PACK_SIZE: "4" };
});

/** Everything a restore must reproduce: table contents, sequences, large objects, views, functions. */
function fingerprint(database: string): string {
    return testbed.pg.sql(
        database,
        `
        SELECT n.nspname || '.' || c.relname || '=' ||
               (xpath('/row/h/text()', query_to_xml(format('SELECT md5(coalesce(string_agg(t::text, E''\\n'' ORDER BY t::text), '''')) AS h FROM %I.%I t', n.nspname, c.relname), false, true, '')))[1]::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
        UNION ALL SELECT 'seq ' || schemaname || '.' || sequencename || '=' || coalesce(last_value::text, 'null') FROM pg_sequences WHERE schemaname NOT IN ('pg_catalog')
        UNION ALL SELECT 'lo=' || coalesce(md5(string_agg(oid::text || ':' || md5(lo_get(oid)), ',' ORDER BY oid)), '') FROM pg_largeobject_metadata
        UNION ALL SELECT 'view=' || pg_get_viewdef('sales.customer_count'::regclass)
        UNION ALL SELECT 'fn=' || sales.greeting('Jörg')
        ORDER BY 1`,
    );
}

function expectNoSecrets(r: CliResult): void {
    for (const secret of [
        testbed.nas.backupPassword,
        testbed.nas.maintenancePassword,
        testbed.nas.resticPassword,
        testbed.pg.password,
    ]) {
        expect(r.stdout).not.toContain(secret);
        expect(r.stderr).not.toContain(secret);
    }
}

describe.concurrent("database backup and restore", () => {
    it("backs up a database and restores it equal to the source (schemas, sequences, large objects, non-ASCII text)", async () => {
        const b = await runCli(["backup", "--target", "shop", "--database", "shop", "--json"], testbed.env);
        expect(b.code, b.stderr).toBe(0);
        expectNoSecrets(b);
        const result = JSON.parse(b.stdout) as {
            snapshot: string;
            bytes: number;
            bytesNew: number;
            bytesStored: number;
            durationSeconds: number;
        };
        expect(result.bytes).toBeGreaterThan(0);
        expect(result.bytesNew).toBeGreaterThan(0);
        expect(result.bytesStored).toBeGreaterThan(0);
        expect(b.events.map((e) => e.event)).toEqual(expect.arrayContaining(["backup.start", "backup.success"]));
        const success = b.events.find((e) => e.event === "backup.success")!;
        expect(success).toMatchObject({ target: "shop", bytes: result.bytes, bytesStored: result.bytesStored });
        expect(typeof success.durationSeconds).toBe("number");

        // Two snapshots: the dump and its manifest, linked by the run tag.
        const snaps = snapshotsOf(testbed.nas, "shop");
        expect(snaps).toHaveLength(2);
        const data = snaps.find((s) => !s.tags?.includes("manifest"))!;
        const manifest = snaps.find((s) => s.tags?.includes("manifest"))!;
        expect(data.paths).toEqual(["/shop.pgdump"]);
        expect(data.tags).toEqual(expect.arrayContaining(["target=shop", "kind=database", "daily"]));
        expect(manifest.tags).toEqual(expect.arrayContaining(["target=shop", "manifest"]));
        expect(manifest.tags!.find((t) => t.startsWith("run="))).toBe(data.tags!.find((t) => t.startsWith("run=")));
        // The manifest was counted in the dump's snapshot.
        const m = JSON.parse(
            restic(["dump", manifest.id, "/manifest.json"], testbed.nas.resticEnv("shop", "backup")).stdout,
        ) as {
            content: {
                tables: { schema: string; table: string; rows: number }[];
                largeObjects: number;
                tableDigest: string;
            };
            dump: { bytes: number; pgDumpVersion: string };
            roles: { pgDumpallVersion: string };
        };
        // The versions as the programs report them.
        const version = (program: string): string =>
            spawnSync(join(testbed.pg.binDir, program), ["--version"], { encoding: "utf8" }).stdout.trim();
        expect(m.dump.pgDumpVersion).toBe(version("pg_dump"));
        expect(m.roles.pgDumpallVersion).toBe(version("pg_dumpall"));
        expect(m.content.tables).toEqual(
            expect.arrayContaining([
                { schema: "Lager ü", table: "Artikel", rows: 300, digest: expect.stringMatching(/^-?\d+$/) },
                { schema: "sales", table: "customer", rows: 500, digest: expect.stringMatching(/^-?\d+$/) },
            ]),
        );
        expect(m.content.tableDigest).toBe("column_hashes");
        expect(m.content.largeObjects).toBe(5);
        expect(m.dump.bytes).toBe(result.bytes);
        // pg_dump wrote into restic directly: the size is the file restic stored, and no SHA-256 is recorded.
        const stored = restic(["ls", "--json", result.snapshot], testbed.nas.resticEnv("shop", "backup"))
            .stdout.split("\n")
            .filter((l) => l.includes('"name":"shop.pgdump"'))
            .map((l) => (JSON.parse(l) as { size: number }).size);
        expect(stored).toEqual([m.dump.bytes]);
        expect(m.dump).not.toHaveProperty("sha256");

        const r = await runCli(
            ["restore", "--target", "shop", "--into-database", "shop_restored", "--create", "--json"],
            testbed.env,
        );
        expect(r.code, r.stderr).toBe(0);
        expectNoSecrets(r);
        expect(r.events.find((e) => e.event === "restore.success")).toMatchObject({ complete: true, problems: [] });
        expect(fingerprint("shop_restored")).toBe(fingerprint("shop"));
        expect(fingerprint("shop")).toContain("seq public.invoice_no=1006");
    });

    it("restores the latest, the latest before a date, or a given snapshot, and refuses a non-empty database unless --force", async () => {
        testbed.pg.sql("postgres", "CREATE DATABASE hist");
        testbed.pg.sql("hist", "CREATE TABLE t (v int); INSERT INTO t VALUES (1)");
        const old = await runCli(
            ["backup", "--target", "hist", "--database", "hist", "--time", "2020-01-15T10:00", "--json"],
            testbed.env,
        );
        expect(old.code, old.stderr).toBe(0);
        testbed.pg.sql("hist", "INSERT INTO t VALUES (2)");
        const recent = await runCli(["backup", "--target", "hist", "--database", "hist", "--json"], testbed.env);
        expect(recent.code, recent.stderr).toBe(0);

        const list = await runCli(["restore", "--target", "hist", "--list", "--json"], testbed.env);
        expect(list.code, list.stderr).toBe(0);
        const listed = JSON.parse(list.stdout) as { snapshot: string; time: string }[];
        expect(listed.map((l) => l.time)).toEqual(["2020-01-15T09:00:00.000Z", expect.any(String)]);

        const before = await runCli(
            ["restore", "--target", "hist", "--before", "2020-02-01", "--into-database", "hist_before", "--create"],
            testbed.env,
        );
        expect(before.code, before.stderr).toBe(0);
        expect(testbed.pg.sql("hist_before", "SELECT count(*) FROM t")).toBe("1");

        const latest = await runCli(
            ["restore", "--target", "hist", "--into-database", "hist_latest", "--create"],
            testbed.env,
        );
        expect(latest.code, latest.stderr).toBe(0);
        expect(testbed.pg.sql("hist_latest", "SELECT count(*) FROM t")).toBe("2");

        // hist_latest now has data: refused without --force, and left as it was.
        const oldId = (JSON.parse(old.stdout) as { snapshot: string }).snapshot;
        const refused = await runCli(
            ["restore", "--target", "hist", "--snapshot", oldId, "--into-database", "hist_latest"],
            testbed.env,
        );
        expect(refused.code).toBe(1);
        expect(failureCause(refused)).toMatch(/hist_latest is not empty.*--force/);
        expect(testbed.pg.sql("hist_latest", "SELECT count(*) FROM t")).toBe("2");
        const forced = await runCli(
            ["restore", "--target", "hist", "--snapshot", oldId, "--into-database", "hist_latest", "--force"],
            testbed.env,
        );
        expect(forced.code, forced.stderr).toBe(0);
        expect(testbed.pg.sql("hist_latest", "SELECT count(*) FROM t")).toBe("1");

        const missing = await runCli(["restore", "--target", "hist", "--into-database", "does_not_exist"], testbed.env);
        expect(missing.code).toBe(1);
        expect(failureCause(missing)).toMatch(/does_not_exist does not exist.*--create/);
        const tooEarly = await runCli(
            ["restore", "--target", "hist", "--before", "2019-01-01", "--into-database", "x", "--create"],
            testbed.env,
        );
        expect(tooEarly.code).toBe(1);
        expect(failureCause(tooEarly)).toMatch(/no complete backup before 2018-12-31T23:00:00.000Z/);
    });

    it("runs two backups of one target at the same time: both succeed and both are restorable", async () => {
        const first = await runCli(["backup", "--target", "twice", "--database", "shop"], testbed.env);
        expect(first.code, first.stderr).toBe(0);
        const [a, b] = await Promise.all([
            runCli(["backup", "--target", "twice", "--database", "shop"], testbed.env),
            runCli(["backup", "--target", "twice", "--database", "shop"], testbed.env),
        ]);
        expect(a.code, a.stderr).toBe(0);
        expect(b.code, b.stderr).toBe(0);
        const list = await runCli(["restore", "--target", "twice", "--list", "--json"], testbed.env);
        expect((JSON.parse(list.stdout) as unknown[]).length).toBe(3);
        const check = restic(["check"], testbed.nas.resticEnv("twice", "maintenance"));
        expect(check.status, check.stderr).toBe(0);
    });
});

/** The runner's environment with a `restic` on PATH that logs every start (its arguments) before running restic. */
function countingRestic(): { env: Record<string, string>; starts: ReturnType<typeof resticOnPath> } {
    const starts = resticOnPath('echo "$*" >> "$LOG"\nexec "$REAL" "$@"');
    return { env: { ...testbed.env, PATH: `${starts.dir}:${process.env.PATH}` }, starts };
}

describe.concurrent("fixed cost: restic starts per run", () => {
    it("starts restic twice per backup (the dump, the manifest), with no snapshot listing; the monthly backup is decided when listed", async () => {
        const { env, starts } = countingRestic();
        const backup = async (): Promise<Record<string, unknown>> => {
            const b = await runCli(["backup", "--target", "counted", "--database", "shop", "--json"], env);
            expect(b.code, b.stderr).toBe(0);
            return JSON.parse(b.stdout) as Record<string, unknown>;
        };
        const first = await backup();
        expect(starts.lines().map((s) => s.split(" ")[0])).toEqual(["init", "backup", "backup"]);
        starts.clear();
        const second = await backup();
        const started = starts.lines();
        expect(started).toHaveLength(2);
        expect(started.every((s) => s.startsWith("backup --stdin"))).toBe(true);
        // The backup does not claim to be monthly: it cannot know without a listing. `restore --list`
        // (as prune and status) names the month's first complete backup.
        expect(first).not.toHaveProperty("monthly");
        expect(snapshotsOf(testbed.nas, "counted").some((s) => s.tags?.includes("monthly"))).toBe(false);
        const list = await runCli(["restore", "--target", "counted", "--list", "--json"], testbed.env);
        const listed = JSON.parse(list.stdout) as { snapshot: string; monthly: boolean }[];
        expect(listed.map((l) => [l.snapshot.slice(0, 8), l.monthly])).toEqual([
            [first.snapshot, true],
            [second.snapshot, false],
        ]);
    });

    it("starts restic twice per restore of the latest backup (its manifest, then the dump of the snapshot it names), with no snapshot listing", async () => {
        const { env, starts } = countingRestic();
        const b = await runCli(["backup", "--target", "counted-restore", "--database", "shop", "--json"], env);
        expect(b.code, b.stderr).toBe(0);
        starts.clear();
        const r = await runCli(
            ["restore", "--target", "counted-restore", "--into-database", "counted_r", "--create"],
            env,
        );
        expect(r.code, r.stderr).toBe(0);
        const started = starts.lines();
        expect(started).toHaveLength(2);
        expect(started[0]).toMatch(/^dump .*latest \/manifest\.json$/);
        expect(started[1]).toMatch(/^dump [0-9a-f]{64} \/counted-restore\.pgdump$/);
        expect(fingerprint("counted_r")).toBe(fingerprint("shop"));
        expect(r.events.find((e) => e.event === "restore.success")).toMatchObject({
            snapshot: (JSON.parse(b.stdout) as { snapshot: string }).snapshot,
            complete: true,
        });
    });

    it("never restores a newer dump without manifest: the latest complete backup is restored instead", async () => {
        const b = await runCli(["backup", "--target", "stale", "--database", "shop", "--json"], testbed.env);
        expect(b.code, b.stderr).toBe(0);
        // A newer data snapshot without manifest (a runner killed between the two commits), holding a
        // valid dump of another database: pg_restore would restore it happily.
        testbed.pg.sql("postgres", "CREATE DATABASE other");
        testbed.pg.sql("other", "CREATE TABLE intruder (x int); INSERT INTO intruder VALUES (1)");
        const otherDump = spawnSync(join(testbed.pg.binDir, "pg_dump"), ["-Fc", "-Z0", "-d", "other"], {
            env: { ...process.env, ...testbed.pg.env },
        }).stdout;
        const tags = ["target=stale", "kind=database", "run=killed", "daily"].flatMap((t) => ["--tag", t]);
        const incomplete = spawnSync(
            "restic",
            ["backup", "--stdin", "--stdin-filename", "stale.pgdump", "--host", "stale", ...tags],
            {
                input: otherDump,
                env: { PATH: process.env.PATH, HOME: process.env.HOME, ...testbed.nas.resticEnv("stale", "backup") },
            },
        );
        expect(incomplete.status, incomplete.stderr?.toString()).toBe(0);

        const r = await runCli(["restore", "--target", "stale", "--into-database", "stale_r", "--create"], testbed.env);
        expect(r.code, r.stderr).toBe(0);
        expect(r.events.find((e) => e.event === "restore.success")).toMatchObject({
            snapshot: (JSON.parse(b.stdout) as { snapshot: string }).snapshot,
        });
        expect(fingerprint("stale_r")).toBe(fingerprint("shop"));
        expect(testbed.pg.sql("stale_r", "SELECT count(*) FROM pg_class WHERE relname = 'intruder'")).toBe("0");
    });
});

describe.concurrent("failures give a clear cause and a non-zero exit", () => {
    it("NAS down", async () => {
        const r = await runCli(["backup", "--target", "nowhere", "--database", "shop"], {
            ...testbed.env,
            NAS_BACKUP_REPOSITORY_BASE: `rest:http://127.0.0.1:${await freePort()}/`,
        });
        expect(r.code).toBe(1);
        expect(failureCause(r)).toMatch(/NAS not reachable at rest:http:\/\/127\.0\.0\.1:\d+\/nowhere\/: ECONNREFUSED/);
        expectNoSecrets(r);
    });

    it("wrong repository password and wrong NAS password", async () => {
        const made = await runCli(["backup", "--target", "keyed", "--database", "shop"], testbed.env);
        expect(made.code, made.stderr).toBe(0);
        const wrongKey = join(testbed.nas.dir, "..", "wrong-key");
        writeFileSync(wrongKey, "not the key\n");
        const r = await runCli(["backup", "--target", "keyed", "--database", "shop"], {
            ...testbed.env,
            RESTIC_PASSWORD_FILE: wrongKey,
        });
        expect(r.code).toBe(1);
        expect(failureCause(r)).toMatch(/wrong repository password/);
        const wrongRest = join(testbed.nas.dir, "..", "wrong-rest");
        writeFileSync(wrongRest, "not the password\n");
        const s = await runCli(["backup", "--target", "keyed", "--database", "shop"], {
            ...testbed.env,
            NAS_BACKUP_REST_PASSWORD_FILE: wrongRest,
        });
        expect(s.code).toBe(1);
        expect(failureCause(s)).toMatch(/NAS rejected the backup credentials \(401\)/);
        expectNoSecrets(r);
        expectNoSecrets(s);
    });

    it("database down: no snapshot is written", async () => {
        const r = await runCli(["backup", "--target", "down", "--database", "shop"], {
            ...testbed.env,
            PGPORT: String(await freePort()),
        });
        expect(r.code).toBe(1);
        expect(failureCause(r)).toMatch(/database shop: .*(Connection refused|connection to server)/);
        expect(snapshotsOf(testbed.nas, "down")).toEqual([]);
        expectNoSecrets(r);
    });
});

/** pids of pg_dump processes dumping a database. */
function pgDumpPids(database: string): number[] {
    return processesMatching(new RegExp(`pg_dump .*--dbname=${database}$`));
}

describe.concurrent("interrupted backups", () => {
    it("pg_dump killed mid-stream leaves no snapshot, and the next backup succeeds", async () => {
        // The target's first backup: the runner creates its repository, then streams.
        const cli = startCli(["backup", "--target", "dump-killed", "--database", "big"], slowEnv);
        await cli.waitForEvent((e) => e.event === "backup.progress" && Number(e.bytesRead) > 1_000_000);
        const pids = pgDumpPids("big");
        expect(pids, "pg_dump should still be running").toHaveLength(1);
        process.kill(pids[0], "SIGKILL");
        const r = await cli.done;
        expect(r.code).toBe(1);
        expect(failureCause(r)).toMatch(
            /pg_dump of big failed \(pg_dump was killed by SIGKILL\).*no snapshot was written/,
        );
        expect(snapshotsOf(testbed.nas, "dump-killed")).toEqual([]);

        const next = await runCli(["backup", "--target", "dump-killed", "--database", "big"], testbed.env);
        expect(next.code, next.stderr).toBe(0);
    });

    it("restic killed mid-stream is the cause named (not pg_dump, whose pipe it broke), and no snapshot is written", async () => {
        const cli = startCli(["backup", "--target", "restic-killed", "--database", "big4"], slowEnv);
        await cli.waitForEvent((e) => e.event === "backup.progress" && Number(e.bytesRead) > 1_000_000);
        const pids = processesMatching(/restic .*--stdin-filename restic-killed\.pgdump/);
        expect(pids, "restic should still be running").toHaveLength(1);
        process.kill(pids[0], "SIGKILL");
        const r = await cli.done;
        expect(r.code).toBe(1);
        expect(failureCause(r)).toMatch(/^restic stopped before the dump ended.*SIGKILL.*no snapshot was written/);
        expect(pgDumpPids("big4")).toEqual([]);
        expect(snapshotsOf(testbed.nas, "restic-killed")).toEqual([]);
    });

    it("a runner killed mid-backup leaves a repository that passes restic check, counts nothing, and the next backup succeeds", async () => {
        // The target's first backup: the runner creates its repository, then streams.
        const cli = startCli(["backup", "--target", "runner-killed", "--database", "big2"], slowEnv);
        await cli.waitForEvent((e) => e.event === "backup.progress" && Number(e.bytesRead) > 1_000_000);
        cli.child.kill("SIGKILL");
        const r = await cli.done;
        expect(r.signal).toBe("SIGKILL");
        // No pg_dump keeps running (here its broken pipe would end it too; the next test holds pg_dump
        // where only the parent-death signal does).
        await vi.waitFor(() => expect(pgDumpPids("big2")).toEqual([]), { timeout: 5_000, interval: 50 });
        // Like an operator who knows the runner died: remove its lock, then check. (`--remove-all`: the killed
        // restic stays a zombie here until PID 1 reaps it, so restic would still consider its lock live.)
        const unlock = restic(["unlock", "--remove-all"], testbed.nas.resticEnv("runner-killed", "maintenance"));
        expect(unlock.status, unlock.stderr).toBe(0);
        const check = restic(["check"], testbed.nas.resticEnv("runner-killed", "maintenance"));
        expect(check.status, check.stderr + check.stdout).toBe(0);
        const listAfter = await runCli(["restore", "--target", "runner-killed", "--list", "--json"], testbed.env);
        expect(listAfter.code, listAfter.stderr).toBe(0);
        expect(JSON.parse(listAfter.stdout)).toEqual([]);

        const next = await runCli(["backup", "--target", "runner-killed", "--database", "big2"], testbed.env);
        expect(next.code, next.stderr).toBe(0);
        const verify = await runCli(["verify", "--target", "runner-killed", "--read-data-subset", "100%"], testbed.env);
        expect(verify.code, verify.stderr).toBe(0);
    });

    it("a runner killed while pg_dump waits for a table lock takes pg_dump with it (parent-death signal)", async () => {
        // pg_dump blocked on a lock writes nothing, so no broken pipe would end it: only the signal does.
        testbed.pg.sql("postgres", "CREATE DATABASE locked_tables");
        testbed.pg.sql("locked_tables", "CREATE TABLE held (id int); INSERT INTO held VALUES (1)");
        // The runner's clients of the database: pg_dump and the psql of its content proof, both held by the lock.
        const runnerClients = (): number[] => processesMatching(/(pg_dump|psql) .*--dbname=locked_tables$/);
        const lock = await holdLock(testbed.pg, "locked_tables", "held");
        try {
            const cli = startCli(
                ["backup", "--target", "runner-killed-lock", "--database", "locked_tables"],
                testbed.env,
            );
            const dumpWaits = `SELECT count(*) FROM pg_stat_activity WHERE datname = 'locked_tables' AND application_name = 'nas-backup' AND wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE%'`;
            await vi.waitFor(() => expect(testbed.pg.sql("postgres", dumpWaits)).toBe("1"), {
                timeout: 60_000,
                interval: 50,
            });
            expect(runnerClients()).toHaveLength(2);
            cli.child.kill("SIGKILL");
            expect((await cli.done).signal).toBe("SIGKILL");
            // (Their server sessions stay until the lock is released: a backend waiting on a lock does not see its client go.)
            await vi.waitFor(() => expect(runnerClients()).toEqual([]), { timeout: 10_000, interval: 50 });
        } finally {
            for (const pid of runnerClients()) process.kill(pid, "SIGKILL");
            lock.release();
        }
    });

    it("a NAS that disappears mid-backup is reported within NAS_BACKUP_NAS_TIMEOUT_SECONDS, with no snapshot, and the next backup succeeds", async () => {
        const bound = 10;
        // A NAS of its own (the same store), killed while pg_dump streams into restic.
        const endpoint = await testbed.nas.startSlowBackupEndpoint("1M");
        const nasEnv = { ...slowEnv, NAS_BACKUP_REPOSITORY_BASE: endpoint, NAS_BACKUP_NAS_TIMEOUT_SECONDS: `${bound}` };
        const cli = startCli(["backup", "--target", "nas-lost", "--database", "big3"], nasEnv);
        await cli.waitForEvent((e) => e.event === "backup.progress" && Number(e.bytesRead) > 1_000_000);
        testbed.nas.killEndpoint(endpoint);
        const lostAt = Date.now();
        const r = await cli.done;
        const seconds = (Date.now() - lostAt) / 1000;
        expect(r.code).toBe(1);
        expect(failureCause(r)).toMatch(
            /^NAS unreachable since \d{4}-\d\d-\d\dT[\d:.]+Z at rest:http:\/\/127\.0\.0\.1:\d+\/nas-lost\/ \(ECONNREFUSED; no answer for \d+ s, the bound is 10 s, NAS_BACKUP_NAS_TIMEOUT_SECONDS\): backup aborted, no manifest was written/,
        );
        expect(r.events.find((e) => e.event === "nas.unreachable")).toMatchObject({
            level: "warn",
            target: "nas-lost",
        });
        // Not before the bound; after it, at most two probe intervals (2.5 s each) and the kill, plus margin
        // for a loaded machine. restic 0.14 alone took about 170 s here (its retries with backoff).
        expect(seconds).toBeGreaterThanOrEqual(bound - 1);
        expect(seconds).toBeLessThan(bound + 20);
        expect(pgDumpPids("big3")).toEqual([]);
        expect(snapshotsOf(testbed.nas, "nas-lost")).toEqual([]);

        // Nothing in a bad state: the killed restic's lock is stale (restic unlock removes only those),
        // the repository passes restic check, and the next backup succeeds.
        const unlock = restic(["unlock"], testbed.nas.resticEnv("nas-lost", "maintenance"));
        expect(unlock.status, unlock.stderr).toBe(0);
        const check = restic(["check"], testbed.nas.resticEnv("nas-lost", "maintenance"));
        expect(check.status, check.stderr + check.stdout).toBe(0);
        const next = await runCli(["backup", "--target", "nas-lost", "--database", "big3"], testbed.env);
        expect(next.code, next.stderr).toBe(0);
        const list = await runCli(["restore", "--target", "nas-lost", "--list", "--json"], testbed.env);
        expect(JSON.parse(list.stdout)).toHaveLength(1);
    });
});
