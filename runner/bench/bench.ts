/**
 * Benchmark of the NAS backup runner (issue 3). Not part of the test suite: `npm run bench`.
 *
 * Against real PostgreSQL, restic 0.14 and `rclone serve restic` on 127.0.0.1, with the runner
 * compiled by tsc exactly as in the image, it measures in one run:
 *  1. NAS bytes after ~200 simulated daily backups of a ~100 MB database with ~1 % daily change, then
 *     `prune`, against keeping one compressed `pg_dump -Fc` file per backup the same retention keeps
 *     (target: at least 10× smaller);
 *  2. backup wall time against a bare `pg_dump -Fc -Z0 > /dev/null` (target ≤ 1.2), and against what a
 *     user would otherwise run, a plain `pg_dump -Fc > file` (compressed) on the NAS's disk (target < 1);
 *  3. restore wall time (what the drill does: restic dump | pg_restore, then the manifest comparison)
 *     against a bare `pg_restore` from a local file (target ≤ 1.2), and `restore --jobs 2` (the dump
 *     landed on local scratch, then a parallel pg_restore) against the single-stream restore;
 *  4. the fixed cost per run (empty database, runner minus bare tool; target ≤ 1 s);
 *  5. the restore drill's extra cost: the content proof and verify's whole drill, each as a ratio to
 *     that bare `pg_restore`, and the drill's share of the RTO.
 * Timings 2–5 run after the simulated days with autovacuum off, and a checkpoint and `sync` before
 * each run (`quietServer`, `settle`): the server's background work falls into no one's time.
 * Prints a table and writes bench-results/runner-bench.json.
 *
 * Options (`--help`): --days N (200) --size-mb N (100) --repeat N (3) --out PATH --workload churn|hot
 *
 * Workloads (about 1 % of the rows change a day):
 *  - churn (default): +0.5 % new orders, the oldest 0.4 % deleted (a retention job), 0.3 % status
 *    updates among the newest tenth; autovacuum lets new rows reuse freed space all over the table.
 *  - hot: +0.5 % new orders, 0.5 % updates among the newest hundredth, no deletes (the table grows).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { backupPolicy } from "../../components/policy";
import { zonedInstant, civilDate, fromDayNumber, dayNumber } from "../src/calendar";
import { contentSql, SEQUENCES_SQL } from "../src/content";
import { nasRetention, plan } from "../src/retention";
import { repositoryKeys, startNas, startPostgres, type Nas, type Postgres } from "../../test/runner/harness";
import { compileRunner, median, quietServer, repoRoot, settle } from "./shared";
import { ordersRows, ordersSql } from "./orders";

const usage =
    "usage: npm run bench -- [--days N (200)] [--size-mb N (100)] [--repeat N (3)] [--out PATH] [--workload churn|hot]";
const { values } = (() => {
    try {
        return parseArgs({
            options: {
                days: { type: "string", default: "200" },
                "size-mb": { type: "string", default: "100" },
                repeat: { type: "string", default: "3" },
                out: { type: "string", default: join(repoRoot, "bench-results/runner-bench.json") },
                workload: { type: "string", default: "churn" },
                help: { type: "boolean", short: "h", default: false },
            },
        });
    } catch (e) {
        console.error(`bench: ${(e as Error).message}\n${usage}`);
        process.exit(2);
    }
})();
if (values.help) {
    console.log(usage);
    process.exit(0);
}
const DAYS = Number(values.days);
const SIZE_MB = Number(values["size-mb"]);
const REPEAT = Number(values.repeat);
const WORKLOAD = values.workload === "hot" ? "hot" : "churn";
const ROWS = ordersRows(SIZE_MB);
const TARGET = "bench";
const tz = backupPolicy.nas.timeZone.value;

function sh(
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
    stdoutFile?: string,
): { ms: number; stdout: string; stderr: string } {
    const start = performance.now();
    const r = spawnSync(cmd, args, {
        env,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        ...(stdoutFile ? { stdio: ["ignore", "ignore", "pipe"] } : {}),
    });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
    return { ms, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function timed(fn: () => unknown): number {
    const start = performance.now();
    fn();
    return performance.now() - start;
}

/** What the restore checked before the content proof: every table's row count. */
const COUNTS_ONLY_SQL = `SELECT count((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname), false, true, '')))[1])
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'`;

function bytesBelow(dir: string): number {
    let total = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        total += e.isDirectory() ? bytesBelow(p) : statSync(p).size;
    }
    return total;
}

const mb = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MB`;
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The running components and how to call them. */
interface Bench {
    readonly work: string;
    readonly pg: Postgres;
    readonly nas: Nas;
    /** The compiled runner with the NAS and database environment. */
    runner(args: string[]): { ms: number; stdout: string };
    pgBin(name: string): string;
    /** The caller's environment plus the database's, for pg_dump/pg_restore. */
    readonly pgEnv: NodeJS.ProcessEnv;
}

/** Rows inserted, deleted and updated a day (about 1 % of the rows, see the workloads above). */
interface DailyChange {
    readonly insert: number;
    readonly delete: number;
    readonly update: number;
    readonly updateAmongNewest: number;
}

/** Median wall times (ms) of the runner and its baseline on an empty database. */
interface FixedCost {
    readonly runnerBackup: number;
    readonly bareDump: number;
    readonly runnerRestore: number;
    readonly bareRestore: number;
}

// ---- setup ---------------------------------------------------------------------------------------

/** Compiles the runner, starts PostgreSQL and the NAS. */
async function setup(work: string): Promise<Bench> {
    console.log(`compiling the runner (tsc, as in the image) …`);
    const cli = compileRunner(join(work, "build"));
    const [pg, nas] = await Promise.all([startPostgres(), startNas()]);
    const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...nas.env,
        ...pg.env,
        NAS_BACKUP_PROGRESS_SECONDS: "0",
    };
    return {
        work,
        pg,
        nas,
        runner: (args) => sh(process.execPath, [cli, ...args], env),
        pgBin: (name) => join(pg.binDir, name),
        pgEnv: { ...process.env, ...pg.env },
    };
}

/** Creates the ~SIZE_MB database of orders; returns its size in bytes. */
function createDatabase(pg: Postgres): number {
    console.log(`creating a ~${SIZE_MB} MB database (${ROWS} rows) …`);
    pg.sql("postgres", `CREATE DATABASE ${TARGET}`);
    pg.sql(TARGET, ordersSql(ROWS));
    return Number(pg.sql(TARGET, `SELECT pg_database_size('${TARGET}')`));
}

// ---- workloads -----------------------------------------------------------------------------------

function dailyChange(): DailyChange {
    return WORKLOAD === "churn"
        ? {
              insert: Math.round(ROWS * 0.005),
              delete: Math.round(ROWS * 0.004),
              update: Math.round(ROWS * 0.003),
              updateAmongNewest: Math.round(ROWS / 10),
          }
        : {
              insert: Math.round(ROWS * 0.005),
              delete: 0,
              update: Math.round(ROWS * 0.005),
              updateAmongNewest: Math.round(ROWS / 100),
          };
}

/** One day's change of the workload. */
function mutate(pg: Postgres, perDay: DailyChange, day: number): void {
    pg.sql(
        TARGET,
        `INSERT INTO orders (customer_id, created_at, status, amount, note)
         SELECT (g::bigint * 104729) % 50000, now(), 'new', (g % 99999) / 100.0, 'Bestellung T${day}-' || g || ': ' || md5((g + ${day * 1_000_003})::text) || ' Lieferung an Kunde ' || ((g::bigint * 104729) % 50000)
         FROM generate_series(1, ${perDay.insert}) g;
         DELETE FROM orders WHERE id IN (SELECT id FROM orders ORDER BY id LIMIT ${perDay.delete});
         UPDATE orders SET status = (ARRAY['paid','shipped','done','returned'])[1 + (id + ${day}) % 4], amount = amount + 1
         WHERE id IN (SELECT id FROM orders WHERE id > (SELECT max(id) - ${perDay.updateAmongNewest} FROM orders) ORDER BY md5(id::text || '${day}') LIMIT ${perDay.update});`,
    );
}

/**
 * The schedule: one backup a day at 01:30 Europe/Berlin, ending today, and which of those days the
 * policy keeps at the end (the same pure plan prune uses), for the pg_dump -Fc baseline.
 */
function schedule(): { times: Date[]; keptDays: Set<number> } {
    const today = dayNumber(civilDate(new Date(), tz));
    const times = Array.from({ length: DAYS }, (_, i) =>
        zonedInstant(fromDayNumber(today - DAYS + 1 + i), 1, 30, tz),
    ).filter((t) => t.getTime() < Date.now());
    const end = new Date();
    const fake = times.flatMap((t, i) => [
        { id: `d${i}`.padEnd(64, "0"), time: t.toISOString(), tags: [`run=${i}`, "daily"] },
        { id: `m${i}`.padEnd(64, "0"), time: t.toISOString(), tags: [`run=${i}`, "manifest"] },
    ]);
    const keptDays = new Set(
        plan(fake, end, nasRetention())
            .keep.filter((d) => d.role === "data")
            .map((d) => times.findIndex((t) => t.getTime() === d.time.getTime())),
    );
    return { times, keptDays };
}

/** The daily backups with the workload's change in between; a pg_dump -Fc file for each kept day. */
function simulateDays(
    b: Bench,
    times: Date[],
    keptDays: Set<number>,
    perDay: DailyChange,
    t0: number,
): { fcSizes: number[]; backupMs: number[]; storedBytes: number[] } {
    console.log(
        `simulating ${times.length} daily backups (${keptDays.size} of them are kept by the policy at the end) …`,
    );
    const fcSizes: number[] = [];
    const backupMs: number[] = [];
    /** What the NAS stored for each daily backup (the runner's bytesStored). */
    const storedBytes: number[] = [];
    const fcFile = join(b.work, "day.dump");
    for (let i = 0; i < times.length; i++) {
        if (i > 0) mutate(b.pg, perDay, i);
        const run = b.runner([
            "backup",
            "--target",
            TARGET,
            "--database",
            TARGET,
            "--time",
            times[i].toISOString(),
            "--json",
        ]);
        backupMs.push(run.ms);
        storedBytes.push((JSON.parse(run.stdout) as { bytesStored: number }).bytesStored);
        if (keptDays.has(i)) {
            sh(b.pgBin("pg_dump"), ["-Fc", `--dbname=${TARGET}`, "-f", fcFile], b.pgEnv);
            fcSizes.push(statSync(fcFile).size);
        }
        if ((i + 1) % 20 === 0 || i === times.length - 1) {
            console.log(
                `  day ${i + 1}/${times.length}: NAS ${mb(bytesBelow(join(b.nas.dir, TARGET)))}, last backup ${s(run.ms)}, elapsed ${s(performance.now() - t0)}`,
            );
        }
    }
    return { fcSizes, backupMs, storedBytes };
}

/**
 * Where the kept bytes go: the packed size of the blobs the dailies (backups of the last 30 days) need,
 * and of those all kept backups need (`restic stats --mode raw-data`); the difference is what only
 * the older monthly backups hold.
 */
function storageByRole(b: Bench): { dailies: number; dailyBytes: number; all: number; allBytes: number } {
    const env = { ...process.env, ...b.nas.resticEnv(TARGET, "maintenance") };
    const snapshots = JSON.parse(sh("restic", ["snapshots", "--json", "--no-lock", "--tag", "daily"], env).stdout) as {
        id: string;
        time: string;
    }[];
    const since = Date.now() - backupPolicy.nas.dailyRetentionDays.value * 24 * 3_600_000;
    const recent = snapshots.filter((x) => new Date(x.time).getTime() >= since).map((x) => x.id);
    const packed = (ids: string[]): number =>
        (
            JSON.parse(sh("restic", ["stats", "--mode", "raw-data", "--json", "--no-lock", ...ids], env).stdout) as {
                total_size: number;
            }
        ).total_size;
    return {
        dailies: recent.length,
        dailyBytes: packed(recent),
        all: snapshots.length,
        allBytes: packed(snapshots.map((x) => x.id)),
    };
}

/** Prunes, then what the NAS holds, how many backups are kept and the last dump's uncompressed size. */
function measureStorage(b: Bench): { nasBytes: number; keptAfterPrune: number; dumpZ0Bytes: number } {
    b.runner(["prune", "--target", TARGET]);
    const prunedPlan = JSON.parse(b.runner(["prune", "--target", TARGET, "--dry-run", "--json"]).stdout) as {
        decisions: { role: string; action: string }[];
    };
    const keptAfterPrune = prunedPlan.decisions.filter((d) => d.role === "data").length;
    const nasBytes = bytesBelow(join(b.nas.dir, TARGET));
    const dumpZ0Bytes = Number(
        /"bytes":(\d+)/.exec(b.runner(["backup", "--target", TARGET, "--database", TARGET, "--json"]).stdout)?.[1] ?? 0,
    );
    return { nasBytes, keptAfterPrune, dumpZ0Bytes };
}

// ---- baselines and measurements ------------------------------------------------------------------

/** A bare `pg_dump -Fc -Z0 > /dev/null` of a database (the backup's baseline). */
function bareDump(b: Bench, database: string): number {
    settle(b.pg);
    return sh("sh", ["-c", `"${b.pgBin("pg_dump")}" -Fc -Z0 --dbname=${database} > /dev/null`], b.pgEnv).ms;
}

/** What a user would otherwise run: a plain, compressed `pg_dump -Fc > file` onto the NAS's disk. */
function plainDumpToFile(b: Bench, database: string): number {
    const file = join(b.nas.dir, "plain.dump");
    settle(b.pg);
    const ms = sh("sh", ["-c", `"${b.pgBin("pg_dump")}" -Fc --dbname=${database} > "${file}"`], b.pgEnv).ms;
    rmSync(file, { force: true });
    return ms;
}

/** A bare `pg_restore` of a local file into a new database (the restore's baseline), CREATE DATABASE included. */
function bareRestore(b: Bench, file: string, into: string, extraArgs: string[]): number {
    b.pg.sql("postgres", `DROP DATABASE IF EXISTS ${into}`);
    settle(b.pg);
    const start = performance.now();
    b.pg.sql("postgres", `CREATE DATABASE ${into}`);
    sh(
        b.pgBin("pg_restore"),
        ["--single-transaction", "--exit-on-error", ...extraArgs, `--dbname=${into}`, file],
        b.pgEnv,
    );
    return performance.now() - start;
}

/** The runner's restore of a target into a new database. */
function runnerRestore(b: Bench, target: string, into: string, extraArgs: string[]): number {
    b.pg.sql("postgres", `DROP DATABASE IF EXISTS ${into}`);
    settle(b.pg);
    return b.runner(["restore", "--target", target, "--into-database", into, "--create", ...extraArgs]).ms;
}

/** The runner's backup of a target's database (named as the target). */
function runnerBackup(b: Bench, target: string): number {
    settle(b.pg);
    return b.runner(["backup", "--target", target, "--database", target]).ms;
}

function timeBackups(b: Bench): { bareDump: number[]; plainDump: number[]; runnerBackup: number[] } {
    console.log(`timing backup against bare pg_dump -Fc -Z0 > /dev/null and pg_dump -Fc > file (${REPEAT}×) …`);
    const times = { bareDump: [] as number[], plainDump: [] as number[], runnerBackup: [] as number[] };
    for (let r = 0; r < REPEAT; r++) {
        times.bareDump.push(bareDump(b, TARGET));
        times.plainDump.push(plainDumpToFile(b, TARGET));
        times.runnerBackup.push(runnerBackup(b, TARGET));
    }
    return times;
}

function timeRestores(b: Bench): { bareRestore: number[]; runnerRestore: number[]; runnerRestoreJobs: number[] } {
    console.log(`timing restore against bare pg_restore from a local file (${REPEAT}×) …`);
    const localDump = join(b.work, "local.dump");
    sh(b.pgBin("pg_dump"), ["-Fc", "-Z0", `--dbname=${TARGET}`, "-f", localDump], b.pgEnv);
    const times = { bareRestore: [] as number[], runnerRestore: [] as number[], runnerRestoreJobs: [] as number[] };
    for (let r = 0; r < REPEAT; r++) {
        times.bareRestore.push(bareRestore(b, localDump, "bare_restore", ["--no-owner", "--no-acl"]));
        times.runnerRestore.push(runnerRestore(b, TARGET, "runner_restore", ["--no-owner"]));
        // The dump landed on local scratch space, then pg_restore --jobs 2 (one job per core here).
        times.runnerRestoreJobs.push(runnerRestore(b, TARGET, "runner_restore_jobs", ["--no-owner", "--jobs", "2"]));
    }
    return times;
}

/**
 * The content proof of a restore (and of the drill): content digests, sequences and schema objects,
 * against the row counts alone it replaced, on the restored database.
 */
function timeContentProof(b: Bench): { content: number[]; contentPrevious: number[]; counts: number[] } {
    const proof = { content: [] as number[], contentPrevious: [] as number[], counts: [] as number[] };
    for (let r = 0; r < REPEAT; r++) {
        settle(b.pg);
        proof.content.push(timed(() => b.pg.sql("runner_restore", `${contentSql()};\n${SEQUENCES_SQL}`)));
        // The row hash backups recorded before column_hashes.
        proof.contentPrevious.push(
            timed(() => b.pg.sql("runner_restore", `${contentSql("hash_record_extended")};\n${SEQUENCES_SQL}`)),
        );
        proof.counts.push(timed(() => b.pg.sql("runner_restore", COUNTS_ONLY_SQL)));
    }
    return proof;
}

/**
 * The fixed cost per run (process starts, restic key derivation and index, psql round trips), from
 * the same operations on an empty database: it does not grow with the data.
 */
function measureFixedCost(b: Bench): FixedCost {
    b.pg.sql("postgres", "CREATE DATABASE empty");
    const fixed = { runnerBackup: [] as number[], bareDump: [] as number[] };
    const restores = { runnerRestore: [] as number[], bareRestore: [] as number[] };
    const emptyDump = join(b.work, "empty.dump");
    b.runner(["backup", "--target", "empty", "--database", "empty"]); // creates the repository: not timed
    for (let r = 0; r < REPEAT; r++) {
        fixed.bareDump.push(bareDump(b, "empty"));
        fixed.runnerBackup.push(runnerBackup(b, "empty"));
    }
    sh(b.pgBin("pg_dump"), ["-Fc", "-Z0", "--dbname=empty", "-f", emptyDump], b.pgEnv);
    for (let r = 0; r < REPEAT; r++) {
        restores.bareRestore.push(bareRestore(b, emptyDump, "bare_empty", []));
        restores.runnerRestore.push(runnerRestore(b, "empty", "runner_empty", []));
    }
    return {
        runnerBackup: median(fixed.runnerBackup),
        bareDump: median(fixed.bareDump),
        runnerRestore: median(restores.runnerRestore),
        bareRestore: median(restores.bareRestore),
    };
}

interface ResticStartMs {
    /** With the key `restic init` calibrated (what every start cost before the quick key). */
    readonly calibratedKey: number;
    /** With the runner's quick key (what the runner's starts cost). */
    readonly quickKey: number;
}

/** The restore drill of `verify` and the time of one restic start (key derivation, index) with each key. */
function measureVerify(b: Bench): {
    drill: { durationSeconds: number; rtoSeconds: number };
    resticStartMs: ResticStartMs;
} {
    settle(b.pg);
    const verify = JSON.parse(
        b.runner(["verify", "--target", TARGET, "--read-data-subset", "10%", "--json"]).stdout,
    ) as { drill: { durationSeconds: number; rtoSeconds: number } };
    const keys = repositoryKeys(b.nas, TARGET);
    const start = (hint: string | undefined): number => {
        if (!hint) throw new Error(`the repository of ${TARGET} lacks a key: ${JSON.stringify(keys)}`);
        const env = { ...process.env, ...b.nas.resticEnv(TARGET, "maintenance"), RESTIC_KEY_HINT: hint };
        return median(Array.from({ length: 3 }, () => sh("restic", ["snapshots", "--no-lock", "--json"], env).ms));
    };
    return {
        drill: verify.drill,
        resticStartMs: { calibratedKey: start(keys.calibrated), quickKey: start(keys.quick) },
    };
}

// ---- report --------------------------------------------------------------------------------------

/** Everything one run measured, the input of the report. */
interface Measurements {
    readonly days: number;
    readonly perDay: DailyChange;
    readonly dbBytes: number;
    readonly keptDays: number;
    readonly daily: { fcSizes: number[]; backupMs: number[]; storedBytes: number[] };
    readonly storage: { nasBytes: number; keptAfterPrune: number; dumpZ0Bytes: number };
    readonly byRole: ReturnType<typeof storageByRole>;
    readonly backups: { bareDump: number[]; plainDump: number[]; runnerBackup: number[] };
    readonly restores: { bareRestore: number[]; runnerRestore: number[]; runnerRestoreJobs: number[] };
    readonly proof: { content: number[]; contentPrevious: number[]; counts: number[] };
    readonly fixedMs: FixedCost;
    readonly verify: { drill: { durationSeconds: number; rtoSeconds: number }; resticStartMs: ResticStartMs };
}

function results(m: Measurements) {
    const fcBytes = m.daily.fcSizes.reduce((a, b) => a + b, 0);
    const backup = { runnerMs: median(m.backups.runnerBackup), bareMs: median(m.backups.bareDump) };
    const plainMs = median(m.backups.plainDump);
    const fixed = {
        backupMs: m.fixedMs.runnerBackup - m.fixedMs.bareDump,
        restoreMs: m.fixedMs.runnerRestore - m.fixedMs.bareRestore,
    };
    const restore = { runnerMs: median(m.restores.runnerRestore), bareMs: median(m.restores.bareRestore) };
    return {
        contentProof: {
            contentMs: median(m.proof.content),
            /** The same proof with the row hash backups recorded before (`hash_record_extended`). */
            contentPreviousMs: median(m.proof.contentPrevious),
            countsOnlyMs: median(m.proof.counts),
            /** Extra time of the content proof over the row counts, as a share of the restore's wall time. */
            extraShareOfRestore: (median(m.proof.content) - median(m.proof.counts)) / restore.runnerMs,
        },
        storage: {
            runnerNasBytes: m.storage.nasBytes,
            pgDumpFcBytes: fcBytes,
            ratio: fcBytes / m.storage.nasBytes,
            target: 10,
            met: fcBytes / m.storage.nasBytes >= 10,
            /**
             * Where the kept bytes go (packed blob sizes): what the dailies of the last 30 days need, and
             * what only the older monthlies hold; and the median a daily backup added to the NAS.
             */
            byRole: {
                dailies: m.byRole.dailies,
                dailiesBytes: m.byRole.dailyBytes,
                monthliesOnly: m.byRole.all - m.byRole.dailies,
                monthliesOnlyBytes: m.byRole.allBytes - m.byRole.dailyBytes,
                medianStoredPerDailyBackup: median(m.daily.storedBytes.slice(1)),
                firstBackupStored: m.daily.storedBytes[0],
            },
        },
        backupTime: {
            ...backup,
            ratio: backup.runnerMs / backup.bareMs,
            target: 1.2,
            met: backup.runnerMs / backup.bareMs <= 1.2,
        },
        backupVsPlainDump: {
            runnerMs: backup.runnerMs,
            plainMs,
            ratio: backup.runnerMs / plainMs,
            target: 1,
            met: backup.runnerMs < plainMs,
        },
        restoreTime: {
            ...restore,
            ratio: restore.runnerMs / restore.bareMs,
            target: 1.2,
            met: restore.runnerMs / restore.bareMs <= 1.2,
        },
        fixedCost: { ...fixed, targetMs: 1000, met: fixed.backupMs <= 1000 && fixed.restoreMs <= 1000 },
        /** Informational: restore --jobs 2 against the single-stream restore. */
        restoreJobs: {
            jobs: 2,
            runnerMs: median(m.restores.runnerRestoreJobs),
            singleStreamMs: restore.runnerMs,
            ratio: median(m.restores.runnerRestoreJobs) / restore.runnerMs,
        },
    };
}
type Results = ReturnType<typeof results>;

/**
 * What the restore drill costs on top of a plain restore, in the same run: the content proof alone
 * (table digests, sequences, schema objects on the restored database) and verify's whole drill
 * (restic dump | pg_restore into a scratch database with the backup's roles, the proof, the drop),
 * each against a bare pg_restore of a local file; and the drill against the RTO.
 */
function drillCost(m: Measurements) {
    const plainRestoreMs = median(m.restores.bareRestore);
    const proofMs = median(m.proof.content);
    const drillMs = m.verify.drill.durationSeconds * 1000;
    return {
        plainRestoreMs,
        proofMs,
        drillMs,
        rtoSeconds: m.verify.drill.rtoSeconds,
        /** The content proof's time over a plain restore's. */
        proofRatio: proofMs / plainRestoreMs,
        /** verify's whole drill over a plain restore. */
        drillRatio: drillMs / plainRestoreMs,
        /** The drill's share of the RTO. */
        rtoShare: m.verify.drill.durationSeconds / m.verify.drill.rtoSeconds,
    };
}

function buildReport(m: Measurements, r: Results, pg: Postgres, t0: number) {
    const { fixedMs } = m;
    return {
        date: new Date().toISOString(),
        parameters: {
            days: m.days,
            sizeMb: SIZE_MB,
            rows: ROWS,
            workload: WORKLOAD,
            dailyChange: m.perDay,
            repeat: REPEAT,
        },
        environment: {
            cpus: cpus().length,
            cpu: cpus()[0]?.model,
            /** 1, 5 and 15 minute load averages at the end: other work on the machine skews wall times. */
            loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
            restic: sh("restic", ["version"]).stdout.trim(),
            postgres: pg.sql("postgres", "SHOW server_version"),
        },
        database: { bytes: m.dbBytes, dumpUncompressedBytes: m.storage.dumpZ0Bytes },
        retention: { keptBackupsExpected: m.keptDays, keptBackupsAfterPrune: m.storage.keptAfterPrune },
        results: r,
        drillCost: drillCost(m),
        fixedCostMs: fixedMs,
        /** Informational: the ratios without the fixed cost per run, i.e. what they approach for large databases. */
        withoutFixedCost: {
            backupRatio: (r.backupTime.runnerMs - fixedMs.runnerBackup) / (r.backupTime.bareMs - fixedMs.bareDump),
            restoreRatio:
                (r.restoreTime.runnerMs - fixedMs.runnerRestore) / (r.restoreTime.bareMs - fixedMs.bareRestore),
        },
        details: {
            dailyBackupMedianMs: median(m.daily.backupMs),
            bareDumpMs: m.backups.bareDump,
            plainDumpToFileMs: m.backups.plainDump,
            runnerBackupMs: m.backups.runnerBackup,
            bareRestoreMs: m.restores.bareRestore,
            runnerRestoreMs: m.restores.runnerRestore,
            verifyDrillSeconds: m.verify.drill.durationSeconds,
            rtoSeconds: m.verify.drill.rtoSeconds,
            resticStartMs: m.verify.resticStartMs,
        },
        totalSeconds: (performance.now() - t0) / 1000,
    };
}
type Report = ReturnType<typeof buildReport>;

/** A row of the table: measure, runner, baseline, ratio, target, met. */
type TableRow = [string, string, string, string, string, string];

/** One row per measure: runner, baseline, ratio, target and whether it is met. */
function tableRows(report: Report): TableRow[] {
    const { results: r, parameters, retention } = report;
    return [
        [
            `NAS bytes after ${parameters.days} daily backups + prune (${retention.keptBackupsAfterPrune} kept)`,
            mb(r.storage.runnerNasBytes),
            mb(r.storage.pgDumpFcBytes),
            `${r.storage.ratio.toFixed(1)}× smaller`,
            "≥ 10×",
            r.storage.met ? "yes" : "NO",
        ],
        [
            "backup wall time vs pg_dump -Fc -Z0 > /dev/null",
            s(r.backupTime.runnerMs),
            s(r.backupTime.bareMs),
            r.backupTime.ratio.toFixed(2),
            "≤ 1.2",
            r.backupTime.met ? "yes" : "NO",
        ],
        [
            "backup wall time vs pg_dump -Fc > file (compressed)",
            s(r.backupVsPlainDump.runnerMs),
            s(r.backupVsPlainDump.plainMs),
            r.backupVsPlainDump.ratio.toFixed(2),
            "< 1",
            r.backupVsPlainDump.met ? "yes" : "NO",
        ],
        [
            "restore wall time vs pg_restore from a local file",
            s(r.restoreTime.runnerMs),
            s(r.restoreTime.bareMs),
            r.restoreTime.ratio.toFixed(2),
            "≤ 1.2",
            r.restoreTime.met ? "yes" : "NO",
        ],
        [
            "restore --jobs 2 vs single-stream restore",
            s(r.restoreJobs.runnerMs),
            s(r.restoreJobs.singleStreamMs),
            r.restoreJobs.ratio.toFixed(2),
            "",
            "",
        ],
        ...fixedCostRows(report),
    ];
}

/** The runner's own cost per run, measured on an empty database. */
function fixedCostRows(report: Report): TableRow[] {
    const r = report.results;
    return [
        [
            "fixed cost per backup (empty db, runner − pg_dump)",
            s(r.fixedCost.backupMs),
            "",
            "",
            "≤ 1 s",
            r.fixedCost.backupMs <= 1000 ? "yes" : "NO",
        ],
        [
            "fixed cost per restore (empty db, runner − pg_restore)",
            s(r.fixedCost.restoreMs),
            "",
            "",
            "≤ 1 s",
            r.fixedCost.restoreMs <= 1000 ? "yes" : "NO",
        ],
    ];
}

/** The table of the targets. */
function printTable(report: Report): void {
    const rows = tableRows(report);
    const header: TableRow = ["measure", "runner", "baseline", "ratio", "target", "met"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (row: string[]): string => row.map((c, i) => c.padEnd(widths[i])).join("  ");
    console.log("");
    console.log(line(header));
    console.log(widths.map((w) => "-".repeat(w)).join("  "));
    for (const row of rows) console.log(line(row));
    console.log("");
}

/** The lines below the table: fixed cost, parameters, the drill and the content proof. */
function printNotes(report: Report, t0: number): void {
    const { fixedCostMs: fixedMs, withoutFixedCost: streaming, details, database } = report;
    const perDay = report.parameters.dailyChange;
    const proof = report.results.contentProof;
    const drill = report.drillCost;
    console.log(
        `fixed cost per run (empty database): backup ${s(fixedMs.runnerBackup)} vs pg_dump ${s(fixedMs.bareDump)}, restore ${s(fixedMs.runnerRestore)} vs pg_restore ${s(fixedMs.bareRestore)}; ` +
            `without it the ratios are backup ${streaming.backupRatio.toFixed(2)}, restore ${streaming.restoreRatio.toFixed(2)} (informational)`,
    );
    console.log(
        `database ${mb(database.bytes)} at the start, dump ${mb(database.dumpUncompressedBytes)} uncompressed at the end; workload ${WORKLOAD}: daily +${perDay.insert} / -${perDay.delete} / ~${perDay.update} rows; ` +
            `one restic start (key derivation, index) ${s(details.resticStartMs.quickKey)} with the quick key, ${s(details.resticStartMs.calibratedKey)} with the calibrated one; restore drill in verify ${details.verifyDrillSeconds} s (RTO ${details.rtoSeconds} s); ` +
            `${cpus().length} CPUs, load ${report.environment.loadAverage.join(" / ")}; total ${s(performance.now() - t0)}`,
    );
    const byRole = report.results.storage.byRole;
    console.log(
        `where the NAS bytes go: the ${byRole.dailies} backups of the last 30 days need ${mb(byRole.dailiesBytes)}, the ${byRole.monthliesOnly} older monthlies add ${mb(byRole.monthliesOnlyBytes)} ` +
            `(${mb(byRole.monthliesOnlyBytes / Math.max(1, byRole.monthliesOnly))} each); the first backup stored ${mb(byRole.firstBackupStored)}, a daily backup after it a median ${mb(byRole.medianStoredPerDailyBackup)}`,
    );
    console.log(
        `content proof on the restored database ${s(proof.contentMs)} (the previous row hash, hash_record_extended: ${s(proof.contentPreviousMs)}) vs row counts alone ${s(proof.countsOnlyMs)}: ` +
            `${(proof.contentMs / proof.countsOnlyMs).toFixed(1)}× the counts, +${(proof.extraShareOfRestore * 100).toFixed(0)} % of the restore's wall time`,
    );
    console.log(
        `drill's extra cost against a plain pg_restore (${s(drill.plainRestoreMs)}): content proof ${s(drill.proofMs)} = ${drill.proofRatio.toFixed(2)}×, ` +
            `verify's whole drill ${s(drill.drillMs)} = ${drill.drillRatio.toFixed(2)}×; the drill took ${(drill.rtoShare * 100).toFixed(3)} % of the RTO (${drill.rtoSeconds} s)`,
    );
}

/** Runs every measurement in the order the report lists them. */
function measure(b: Bench, t0: number): Measurements {
    const dbBytes = createDatabase(b.pg);
    const perDay = dailyChange();
    const { times, keptDays } = schedule();
    const daily = simulateDays(b, times, keptDays, perDay, t0);
    const storage = measureStorage(b);
    const byRole = storageByRole(b);
    quietServer(b.pg, [TARGET]); // the simulated days needed autovacuum (churn), the timings do not
    const backups = timeBackups(b);
    const restores = timeRestores(b);
    const proof = timeContentProof(b);
    const fixedMs = measureFixedCost(b);
    const verify = measureVerify(b);
    return {
        days: times.length,
        perDay,
        dbBytes,
        keptDays: keptDays.size,
        daily,
        storage,
        byRole,
        backups,
        restores,
        proof,
        fixedMs,
        verify,
    };
}

async function main(): Promise<void> {
    const t0 = performance.now();
    const work = mkdtempSync(join(tmpdir(), "nas-backup-bench-"));
    let b: Bench | undefined;
    try {
        b = await setup(work);
        const m = measure(b, t0);
        const report = buildReport(m, results(m), b.pg, t0);
        printTable(report);
        printNotes(report, t0);
        mkdirSync(dirname(values.out), { recursive: true });
        writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
        console.log(`written ${values.out}`);
    } finally {
        b?.pg.cleanup();
        await b?.nas.cleanup();
        rmSync(work, { recursive: true, force: true });
    }
}

main().catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
});
