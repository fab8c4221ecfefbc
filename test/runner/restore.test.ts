/**
 * Restores onto a second PostgreSQL cluster that lacks the application's roles (a disaster restore goes
 * to a new server), with real restic 0.14 and `rclone serve restic`. Every test has its own targets
 * and databases, so they run concurrently.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { contentSql, type DatabaseContent } from "../../runner/src/content";
import { checkRoom } from "../../runner/src/restore";
import {
    failureCause,
    freePort,
    holdLock,
    newestManifest,
    requireTools,
    resticOnPath,
    runCli,
    startNas,
    startPostgres,
    type Nas,
    type Postgres,
} from "./harness";

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

let source: Postgres;
/** A new server: none of the application's roles exist there. */
let fresh: Postgres;
/** Another new server, for the verify drill. */
let drillServer: Postgres;
let nas: Nas;
let sourceEnv: Record<string, string>;
let freshEnv: Record<string, string>;

beforeAll(async () => {
    requireTools();
    [source, fresh, drillServer, nas] = await Promise.all([
        startPostgres(),
        startPostgres(),
        startPostgres(),
        startNas(),
    ]);
    sourceEnv = { ...nas.env, ...source.env, NAS_BACKUP_PROGRESS_SECONDS: "0" };
    freshEnv = { ...nas.env, ...fresh.env, NAS_BACKUP_PROGRESS_SECONDS: "0" };
    source.sql(
        "postgres",
        `CREATE ROLE app_owner NOLOGIN; CREATE ROLE app_reader NOLOGIN; CREATE ROLE app_user LOGIN PASSWORD 'secret-app-pw' IN ROLE app_reader;
         CREATE DATABASE crm OWNER app_owner; CREATE DATABASE plain;`,
    );
    source.sql(
        "crm",
        `SET ROLE app_owner;
         CREATE SCHEMA crm;
         CREATE TABLE crm.account (id bigserial PRIMARY KEY, tenant text NOT NULL, note text);
         -- several MB: restic is still writing when pg_restore stops at the first ownership statement
         INSERT INTO crm.account (tenant, note) SELECT 't' || (g % 7), repeat(md5(g::text), 20) FROM generate_series(1, 20000) g;
         ALTER TABLE crm.account ENABLE ROW LEVEL SECURITY;
         CREATE POLICY tenant_read ON crm.account FOR SELECT TO app_reader USING (tenant = current_user);
         GRANT USAGE ON SCHEMA crm TO app_reader;
         GRANT SELECT ON crm.account TO app_reader;`,
    );
    source.sql(
        "plain",
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g",
    );
    source.sql("postgres", "CREATE DATABASE tamper TEMPLATE plain; CREATE DATABASE legacy TEMPLATE plain;");
    for (const [target, database] of [
        ["crm", "crm"],
        ["plain", "plain"],
        ["tamper", "tamper"],
        ["legacy", "legacy"],
        ["resized", "plain"],
        ["rehashed", "plain"],
        ["repaired", "plain"],
    ]) {
        const r = await runCli(["backup", "--target", target, "--database", database], sourceEnv);
        expect(r.code, r.stderr).toBe(0);
    }
}, 240_000);

afterAll(async () => {
    source?.cleanup();
    fresh?.cleanup();
    drillServer?.cleanup();
    await nas?.cleanup();
});

function databaseExists(pg: Postgres, name: string): boolean {
    return pg.sql("postgres", `SELECT count(*) FROM pg_database WHERE datname = '${name}'`) === "1";
}

describe.concurrent("restore onto a new server", () => {
    it("creates the database with the backup's encoding (the manifest's LATIN1, not the UTF8 it is created with while restic reads), and a restore that fails leaves no database behind", async () => {
        source.sql("postgres", "CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C'");
        source.sql("latin", "CREATE TABLE t (v text); INSERT INTO t VALUES ('Grüße, café')");
        const b = await runCli(["backup", "--target", "latin", "--database", "latin"], sourceEnv);
        expect(b.code, b.stderr).toBe(0);
        const r = await runCli(["restore", "--target", "latin", "--into-database", "latin", "--create"], freshEnv);
        expect(r.code, r.stderr).toBe(0);
        const encoding = "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'latin'";
        expect(fresh.sql("postgres", encoding)).toBe("LATIN1");
        expect(fresh.sql("latin", "SELECT v FROM t")).toBe("Grüße, café");
        // The database is created while restic derives the key; restic then fails on the wrong key.
        const dir = mkdtempSync(join(tmpdir(), "wrong-key-"));
        try {
            writeFileSync(join(dir, "key"), "not-the-repository-key\n");
            const wrong = await runCli(
                ["restore", "--target", "latin", "--into-database", "latin_orphan", "--create"],
                { ...freshEnv, RESTIC_PASSWORD_FILE: join(dir, "key") },
            );
            expect(wrong.code).toBe(1);
            expect(failureCause(wrong)).toMatch(/wrong repository password/);
            expect(databaseExists(fresh, "latin_orphan")).toBe(false);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("names pg_restore's own error as the cause (not restic, which the runner killed) and removes the database --create made", async () => {
        expect(fresh.sql("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'app_owner'")).toBe("0");
        const r = await runCli(["restore", "--target", "crm", "--into-database", "crm_new", "--create"], freshEnv);
        expect(r.code).toBe(1);
        expect(failureCause(r)).toMatch(/^pg_restore into crm_new failed .*role "app_owner" does not exist/);
        expect(failureCause(r)).not.toMatch(/restic|SIGKILL/);
        expect(databaseExists(fresh, "crm_new")).toBe(false);
    });

    it("--no-owner alone does not help on a new server: a row-level security policy names a role", async () => {
        const r = await runCli(
            ["restore", "--target", "crm", "--into-database", "crm_noowner", "--create", "--no-owner"],
            freshEnv,
        );
        expect(r.code).toBe(1);
        expect(failureCause(r)).toMatch(/role "app_reader" does not exist.*pass --create-roles/);
        expect(databaseExists(fresh, "crm_noowner")).toBe(false);
    });

    it("restore --list names the cause when the target is unknown, the key is wrong or the NAS is down", async () => {
        const unknown = await runCli(["restore", "--target", "nope", "--list"], freshEnv);
        expect(unknown.code).toBe(1);
        expect(failureCause(unknown)).toMatch(/no repository for target nope/);
        const wrongKey = join(nas.dir, "..", "wrong-key");
        writeFileSync(wrongKey, "not the key\n");
        const key = await runCli(["restore", "--target", "plain", "--list"], {
            ...freshEnv,
            RESTIC_PASSWORD_FILE: wrongKey,
        });
        expect(key.code).toBe(1);
        expect(failureCause(key)).toMatch(/wrong repository password/);
        const down = await runCli(["restore", "--target", "plain", "--list"], {
            ...freshEnv,
            NAS_BACKUP_REPOSITORY_BASE: `rest:http://127.0.0.1:${await freePort()}/`,
        });
        expect(down.code).toBe(1);
        expect(failureCause(down)).toMatch(/NAS not reachable/);
    });

    it("keeps restic's output when restic finishes before pg_restore starts (short dump, slow database)", async () => {
        fresh.sql("postgres", "CREATE DATABASE plain_slow");
        // Holds the restore in its "is the database empty" check until restic dump has exited.
        const lock = await holdLock(fresh, "plain_slow", "pg_catalog.pg_largeobject_metadata");
        // Logs each restic's exit code and arguments when it ends.
        const exits = resticOnPath('"$REAL" "$@"\nrc=$?\necho "$rc $*" >> "$LOG"\nexit $rc');
        const restore = runCli(["restore", "--target", "plain", "--into-database", "plain_slow"], {
            ...freshEnv,
            PATH: `${exits.dir}:${process.env.PATH}`,
        });
        // Both observed, neither sampled: the restore waits on the lock, and restic dump has ended.
        await vi.waitFor(
            () =>
                expect(
                    fresh.sql(
                        "postgres",
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'plain_slow' AND wait_event_type = 'Lock'",
                    ),
                ).toBe("1"),
            { timeout: 60_000, interval: 50 },
        );
        await vi.waitFor(
            () => expect(exits.lines()).toContainEqual(expect.stringMatching(/^0 dump \S+ \/plain\.pgdump$/)),
            {
                timeout: 60_000,
                interval: 50,
            },
        );
        lock.release();
        const r = await restore;
        expect(r.code, r.stderr).toBe(0);
        expect(fresh.sql("plain_slow", "SELECT count(*) FROM t")).toBe("100");
    });
});

/**
 * Writes a backup to the target's repository as the runner would: the dump's data snapshot, then a
 * manifest snapshot with `manifest(short id of that data snapshot)`.
 */
function writeBackup(target: string, dump: Buffer, manifest: (dataSnapshot: string) => object): string {
    const run = `run=forged-${Date.now()}`;
    const write = (file: string, input: Buffer, tags: string[]): string => {
        const r = spawnSync(
            "restic",
            ["backup", "--stdin", "--stdin-filename", file, "--host", target, ...tags.flatMap((t) => ["--tag", t])],
            { input, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...nas.resticEnv(target, "backup") } },
        );
        expect(r.status, r.stderr?.toString()).toBe(0);
        return /snapshot (\w+) saved/.exec(r.stdout.toString())![1];
    };
    const dataSnapshot = write(`${target}.pgdump`, dump, [`target=${target}`, "kind=database", run, "daily"]);
    write("manifest.json", Buffer.from(JSON.stringify(manifest(dataSnapshot))), [`target=${target}`, "manifest", run]);
    return dataSnapshot;
}

/** A pg_dump of `database` on the source server, as the runner makes it. */
function pgDump(database: string): Buffer {
    return spawnSync(join(source.binDir, "pg_dump"), ["--format=custom", "--compress=0", "-d", database], {
        env: { ...process.env, ...source.env },
    }).stdout;
}

describe.concurrent("the restore proves content, not only counts", () => {
    it("reports the first table whose values differ from what the backup recorded, though the row counts match", async () => {
        const manifest = newestManifest<{ dump: { bytes: number } }>(nas, "tamper");
        // A dump with one value changed, and a manifest that names it and agrees with it on size.
        source.sql("tamper", "UPDATE t SET v = 'changed' WHERE id = 42");
        const dump = pgDump("tamper");
        writeBackup("tamper", dump, (dataSnapshot) => ({
            ...manifest,
            dataSnapshot,
            dump: { ...manifest.dump, bytes: dump.length },
        }));

        const r = await runCli(
            ["restore", "--target", "tamper", "--into-database", "tamper_new", "--create"],
            freshEnv,
        );
        expect(r.code).toBe(1);
        const failure = r.events.find((e) => e.event === "restore.failure")!;
        expect((failure.problems as string[])[0]).toMatch(/^table public\.t: content differs \(same 100 rows/);
    });
});

describe.concurrent("only the dump the manifest commits is restored", () => {
    /** Restores the target's backup into a new database; the failure's cause, and whether the database exists. */
    async function restoreFails(target: string, options: string[] = []): Promise<{ cause: string; exists: string }> {
        const into = `${target}_r`;
        const r = await runCli(
            ["restore", "--target", target, ...options, "--into-database", into, "--create"],
            freshEnv,
        );
        expect(r.code).toBe(1);
        return {
            cause: failureCause(r),
            exists: fresh.sql("postgres", `SELECT count(*) FROM pg_database WHERE datname = '${into}'`),
        };
    }

    it("a dump of another size than the manifest says is not restored", async () => {
        const manifest = newestManifest<{ dump: { bytes: number } }>(nas, "resized");
        const dump = pgDump("plain");
        writeBackup("resized", dump, (dataSnapshot) => ({
            ...manifest,
            dataSnapshot,
            dump: { ...manifest.dump, bytes: dump.length + 1 },
        }));
        expect(await restoreFails("resized")).toEqual({
            cause: `dump read back has ${dump.length} bytes; the manifest says ${dump.length + 1} bytes; nothing was restored (one transaction)`,
            exists: "0",
        });
        // --jobs checks the landed dump the same way, before pg_restore starts.
        expect(await restoreFails("resized", ["--jobs", "2"])).toEqual({
            cause: `dump read back has ${dump.length} bytes; the manifest says ${dump.length + 1} bytes; nothing was restored`,
            exists: "0",
        });
    });

    it("a backup whose manifest records the dump's SHA-256 (made before 2026-11-28) is restored only if it matches", async () => {
        const manifest = newestManifest<{ dump: { bytes: number } }>(nas, "rehashed");
        const dump = pgDump("plain");
        const otherHash = createHash("sha256").update("another dump").digest("hex");
        writeBackup("rehashed", dump, (dataSnapshot) => ({
            ...manifest,
            dataSnapshot,
            dump: { ...manifest.dump, bytes: dump.length, sha256: otherHash },
        }));
        const mismatch = new RegExp(
            `^dump read back has ${dump.length} bytes, sha256 ${createHash("sha256").update(dump).digest("hex").slice(0, 12)}…; the manifest says ${dump.length} bytes, sha256 ${otherHash.slice(0, 12)}…; nothing was restored`,
        );
        for (const jobs of [[], ["--jobs", "2"]]) {
            const { cause, exists } = await restoreFails("rehashed", jobs);
            expect(cause).toMatch(mismatch);
            expect(exists).toBe("0");
        }
    });

    it("a manifest names the data snapshot restored: the one of its run, or the restore is refused", async () => {
        const manifest = newestManifest<{ dataSnapshot: string }>(nas, "repaired");
        // A run whose dump holds another database, and whose manifest names the earlier backup's data snapshot.
        const intruder = writeBackup("repaired", pgDump("tamper"), () => manifest);
        const latest = await runCli(
            ["restore", "--target", "repaired", "--into-database", "repaired_l", "--create"],
            freshEnv,
        );
        expect(latest.code, latest.stderr).toBe(0);
        expect(latest.events.find((e) => e.event === "restore.success")).toMatchObject({
            snapshot: manifest.dataSnapshot,
        });
        const { cause, exists } = await restoreFails("repaired", ["--snapshot", intruder]);
        expect(cause).toMatch(
            new RegExp(
                `^the manifest paired with backup ${intruder} names data snapshot ${manifest.dataSnapshot}: it commits another backup`,
            ),
        );
        expect(exists).toBe("0");
    });
});

describe("manifests written before the digest function was recorded", () => {
    it("restores a backup whose manifest hashed the rows with md5, and compares those digests", async () => {
        const manifest = newestManifest<{ dump: { bytes: number }; content: DatabaseContent }>(nas, "legacy");
        expect(manifest.content.tableDigest).toBe("column_hashes");
        // The manifest as it was before the function was recorded: md5 digests, no function named.
        const md5 = JSON.parse(source.sql("legacy", contentSql("md5"))) as DatabaseContent;
        expect(md5.tables[0].digest).not.toBe(manifest.content.tables[0].digest);
        const { tableDigest: _recorded, ...content } = { ...manifest.content, tables: md5.tables };
        const dump = pgDump("legacy");
        // Manifests of that time also recorded the dump's SHA-256.
        const forged = (tables: DatabaseContent["tables"]) => (dataSnapshot: string) => ({
            ...manifest,
            dataSnapshot,
            dump: { ...manifest.dump, bytes: dump.length, sha256: createHash("sha256").update(dump).digest("hex") },
            content: { ...content, tables },
        });
        writeBackup("legacy", dump, forged(md5.tables));
        const restored = await runCli(
            ["restore", "--target", "legacy", "--into-database", "legacy_md5", "--create"],
            freshEnv,
        );
        expect(restored.code, restored.stderr).toBe(0);

        // The md5 digests are compared, not skipped: one recorded digest off, and the restore fails.
        await new Promise((r) => setTimeout(r, 1100)); // the next forged backup is the latest
        writeBackup("legacy", dump, forged([{ ...md5.tables[0], digest: "1" }]));
        const r = await runCli(
            ["restore", "--target", "legacy", "--into-database", "legacy_off", "--create"],
            freshEnv,
        );
        expect(r.code).toBe(1);
        const failure = r.events.find((e) => e.event === "restore.failure")!;
        expect((failure.problems as string[])[0]).toMatch(/^table public\.t: content differs \(same 100 rows/);
    });
});

describe("restore --create-roles onto a new server", () => {
    it("creates the missing roles without passwords before the data: owners, grants, memberships and policies come back", async () => {
        const r = await runCli(
            ["restore", "--target", "crm", "--into-database", "crm", "--create", "--create-roles"],
            freshEnv,
        );
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/created roles without passwords .*app_owner, app_reader, app_user/);
        expect(r.events.find((e) => e.event === "restore.success")).toMatchObject({ complete: true, problems: [] });
        expect(fresh.sql("crm", "SELECT relowner::regrole FROM pg_class WHERE oid = 'crm.account'::regclass")).toBe(
            "app_owner",
        );
        expect(fresh.sql("crm", "SELECT has_table_privilege('app_reader', 'crm.account', 'SELECT')")).toBe("t");
        expect(fresh.sql("crm", "SELECT roles::text FROM pg_policies WHERE policyname = 'tenant_read'")).toBe(
            "{app_reader}",
        );
        expect(fresh.sql("postgres", "SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'app_user'")).toBe("t");
        expect(fresh.sql("postgres", "SELECT pg_has_role('app_user', 'app_reader', 'member')")).toBe("t");
        expect(fresh.sql("crm", "SELECT count(*) FROM crm.account")).toBe("20000");
    });
});

describe("restore --jobs N: the dump landed on scratch space, then a parallel pg_restore", () => {
    it("restores and proves the content, leaves nothing on the scratch space, and refuses a scratch directory it cannot use", async () => {
        const scratch = mkdtempSync(join(tmpdir(), "nas-backup-scratch-"));
        try {
            const r = await runCli(
                [
                    "restore",
                    "--target",
                    "crm",
                    "--into-database",
                    "crm_parallel",
                    "--create",
                    "--jobs",
                    "2",
                    "--scratch-directory",
                    scratch,
                ],
                sourceEnv,
            );
            expect(r.code, r.stderr).toBe(0);
            expect(r.events.find((e) => e.event === "restore.start")).toMatchObject({ jobs: 2 });
            // The backup's pg_dump wrote into a pipe: the landed dump gets its one table's data offset.
            expect(r.events.find((e) => e.event === "restore.landed")).toMatchObject({ dataOffsetsRecorded: 1 });
            expect(r.events.find((e) => e.event === "restore.success")).toMatchObject({ complete: true, problems: [] });
            expect(source.sql("crm_parallel", "SELECT count(*) FROM crm.account")).toBe("20000");
            expect(readdirSync(scratch)).toEqual([]);
        } finally {
            rmSync(scratch, { recursive: true, force: true });
        }
        const missing = await runCli(
            [
                "restore",
                "--target",
                "crm",
                "--into-database",
                "crm_parallel_2",
                "--create",
                "--jobs",
                "2",
                "--scratch-directory",
                join(scratch, "gone"),
            ],
            sourceEnv,
        );
        expect(missing.code).toBe(1);
        expect(failureCause(missing)).toMatch(/scratch directory .*gone is not usable: ENOENT/);
        // Refused before anything was restored: the database --create made is gone again.
        expect(source.sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'crm_parallel_2'")).toBe("0");
        const usage = await runCli(["restore", "--target", "crm", "--into-database", "x", "--jobs", "0"], sourceEnv);
        expect(usage.code).toBe(2);
        expect(usage.stderr).toMatch(/--jobs 0: expected a whole number/);
    });

    it("checks the scratch filesystem for room for the dump", async () => {
        await expect(checkRoom(tmpdir(), Number.MAX_SAFE_INTEGER)).rejects.toThrow(
            /scratch directory .* has \d+ MiB free; the dump needs \d+ MiB/,
        );
        await expect(checkRoom(tmpdir(), 1)).resolves.toBeUndefined();
    });
});

describe("the verify drill on a server without the application's roles", () => {
    it("creates the backup's roles (without passwords) before the data and proves owners, grants and policies came back", async () => {
        const drillEnv = { ...nas.env, ...drillServer.env, NAS_BACKUP_PROGRESS_SECONDS: "0" };
        const r = await runCli(["verify", "--target", "crm", "--read-data-subset", "1/7", "--json"], drillEnv);
        expect(r.code, r.stderr).toBe(0);
        const result = JSON.parse(r.stdout) as { drill: { ok: boolean; rolesCreated: string[]; problems: string[] } };
        expect(result.drill).toMatchObject({ ok: true, problems: [] });
        expect([...result.drill.rolesCreated].sort()).toEqual(["app_owner", "app_reader", "app_user"]);
        expect(
            drillServer.sql(
                "postgres",
                "SELECT rolname || ':' || (rolpassword IS NULL) || ':' || rolcanlogin FROM pg_authid WHERE rolname LIKE 'app%' ORDER BY 1",
            ),
        ).toBe("app_owner:true:false\napp_reader:true:false\napp_user:true:true");
        expect(drillServer.sql("postgres", "SELECT pg_has_role('app_user', 'app_reader', 'member')")).toBe("t");
        const created = r.events.find((e) => e.event === "restore.roles_created")!;
        expect(String(created.note)).toMatch(/without passwords/);
    });
});
