/**
 * Benchmark of the NAS backup runner (issue 3). Not part of the test suite: `npm run bench`.
 *
 * Against real PostgreSQL, restic 0.14 and `rclone serve restic` on 127.0.0.1, with the runner
 * compiled by tsc exactly as in the image, it measures in one run:
 *  1. NAS bytes after ~200 simulated daily backups of a ~100 MB database with ~1 % daily change, then
 *     `prune`, against keeping one compressed `pg_dump -Fc` file per backup the same retention keeps
 *     (target: at least 10× smaller);
 *  2. backup wall time against a bare `pg_dump -Fc -Z0 > /dev/null` (target ≤ 1.3);
 *  3. restore wall time (what the drill does: restic dump | pg_restore, then the manifest comparison)
 *     against a bare `pg_restore` from a local file (target ≤ 1.3).
 * Prints a table and writes bench-results/runner-bench.json.
 *
 * Options: --days N (200) --size-mb N (100) --repeat N (3) --out PATH --workload churn|hot
 *
 * Workloads (about 1 % of the rows change a day):
 *  - churn (default): +0.5 % new orders, the oldest 0.4 % deleted (a retention job), 0.3 % status
 *    updates among the newest tenth; autovacuum lets new rows reuse freed space all over the table.
 *  - hot: +0.5 % new orders, 0.5 % updates among the newest hundredth, no deletes (the table grows).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { backupPolicy } from "../../components/policy";
import { zonedInstant, civilDate, fromDayNumber, dayNumber } from "../src/calendar";
import { CONTENT_SQL, SEQUENCES_SQL } from "../src/content";
import { nasRetention, plan } from "../src/retention";
import { startNas, startPostgres, type Nas, type Postgres } from "../../test/runner/harness";

const repoRoot = resolve(__dirname, "../..");
const { values } = parseArgs({
    options: {
        days: { type: "string", default: "200" },
        "size-mb": { type: "string", default: "100" },
        repeat: { type: "string", default: "3" },
        out: { type: "string", default: join(repoRoot, "bench-results/runner-bench.json") },
        workload: { type: "string", default: "churn" },
    },
});
const DAYS = Number(values.days);
const SIZE_MB = Number(values["size-mb"]);
const REPEAT = Number(values.repeat);
const WORKLOAD = values.workload === "hot" ? "hot" : "churn";
const ROW_BYTES = 200; // approximate size of one row in the dump
const ROWS = Math.round((SIZE_MB * 1024 * 1024) / ROW_BYTES);
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

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

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

/** Compiles the runner as the image does (tsc, its runtime dependency next to it); returns the path of cli.js. */
function compileRunner(build: string): string {
    console.log(`compiling the runner (tsc, as in the image) …`);
    sh(process.execPath, [
        join(repoRoot, "node_modules/typescript/bin/tsc"),
        "-p",
        join(repoRoot, "runner/tsconfig.build.json"),
        "--outDir",
        build,
    ]);
    mkdirSync(join(build, "node_modules"));
    symlinkSync(join(repoRoot, "node_modules/luxon"), join(build, "node_modules/luxon"));
    return join(build, "runner/src/cli.js");
}

async function main(): Promise<void> {
    const t0 = performance.now();
    const work = mkdtempSync(join(tmpdir(), "nas-backup-bench-"));
    let pg: Postgres | undefined;
    let nas: Nas | undefined;
    try {
        const cli = compileRunner(join(work, "build"));

        [pg, nas] = await Promise.all([startPostgres(), startNas()]);
        const env: NodeJS.ProcessEnv = {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            ...nas.env,
            ...pg.env,
            NAS_BACKUP_PROGRESS_SECONDS: "0",
        };
        const runner = (args: string[]): { ms: number; stdout: string } => sh(process.execPath, [cli, ...args], env);
        const pgBin = (name: string): string => join(pg!.binDir, name);

        console.log(`creating a ~${SIZE_MB} MB database (${ROWS} rows) …`);
        pg.sql("postgres", `CREATE DATABASE ${TARGET}`);
        pg.sql(
            TARGET,
            `CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, created_at timestamptz NOT NULL, status text NOT NULL, amount numeric(12,2) NOT NULL, note text);
             INSERT INTO orders (customer_id, created_at, status, amount, note)
             SELECT (g::bigint * 7919) % 50000, timestamptz '2024-01-01' + g * interval '1 minute', (ARRAY['new','paid','shipped','done'])[1 + g % 4], (g % 100000) / 100.0,
                    'Bestellung ' || g || ': ' || md5(g::text) || ' ' || substr(md5((g * 3)::text), 1, 20) || ' Lieferung an Kunde ' || ((g::bigint * 7919) % 50000) || ', ' || (ARRAY['Köln','München','Berlin','Hamburg','Leipzig'])[1 + g % 5] || ' ' || repeat('x', g % 40)
             FROM generate_series(1, ${ROWS}) g;
             ANALYZE orders;`,
        );
        const dbBytes = Number(pg.sql(TARGET, `SELECT pg_database_size('${TARGET}')`));

        // Daily change, about 1 % of the rows (see the workloads above).
        const perDay =
            WORKLOAD === "churn"
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
        const mutate = (day: number): void => {
            pg!.sql(
                TARGET,
                `INSERT INTO orders (customer_id, created_at, status, amount, note)
                 SELECT (g::bigint * 104729) % 50000, now(), 'new', (g % 99999) / 100.0, 'Bestellung T${day}-' || g || ': ' || md5((g + ${day * 1_000_003})::text) || ' Lieferung an Kunde ' || ((g::bigint * 104729) % 50000)
                 FROM generate_series(1, ${perDay.insert}) g;
                 DELETE FROM orders WHERE id IN (SELECT id FROM orders ORDER BY id LIMIT ${perDay.delete});
                 UPDATE orders SET status = (ARRAY['paid','shipped','done','returned'])[1 + (id + ${day}) % 4], amount = amount + 1
                 WHERE id IN (SELECT id FROM orders WHERE id > (SELECT max(id) - ${perDay.updateAmongNewest} FROM orders) ORDER BY md5(id::text || '${day}') LIMIT ${perDay.update});`,
            );
        };

        // The schedule: one backup a day at 01:30 Europe/Berlin, ending today.
        const today = dayNumber(civilDate(new Date(), tz));
        const times = Array.from({ length: DAYS }, (_, i) =>
            zonedInstant(fromDayNumber(today - DAYS + 1 + i), 1, 30, tz),
        ).filter((t) => t.getTime() < Date.now());
        const end = new Date();
        // Which days the policy keeps at the end (the same pure plan prune uses), for the pg_dump -Fc baseline.
        const fake = times.flatMap((t, i) => [
            { id: `d${i}`.padEnd(64, "0"), time: t.toISOString(), tags: [`run=${i}`, "daily"] },
            { id: `m${i}`.padEnd(64, "0"), time: t.toISOString(), tags: [`run=${i}`, "manifest"] },
        ]);
        const keptDays = new Set(
            plan(fake, end, nasRetention())
                .keep.filter((d) => d.role === "data")
                .map((d) => times.findIndex((t) => t.getTime() === d.time.getTime())),
        );

        console.log(
            `simulating ${times.length} daily backups (${keptDays.size} of them are kept by the policy at the end) …`,
        );
        const fcSizes: number[] = [];
        const backupMs: number[] = [];
        const fcFile = join(work, "day.dump");
        for (let i = 0; i < times.length; i++) {
            if (i > 0) mutate(i);
            const b = runner(["backup", "--target", TARGET, "--database", TARGET, "--time", times[i].toISOString()]);
            backupMs.push(b.ms);
            if (keptDays.has(i)) {
                sh(pgBin("pg_dump"), ["-Fc", `--dbname=${TARGET}`, "-f", fcFile], { ...process.env, ...pg.env });
                fcSizes.push(statSync(fcFile).size);
            }
            if ((i + 1) % 20 === 0 || i === times.length - 1) {
                console.log(
                    `  day ${i + 1}/${times.length}: NAS ${mb(bytesBelow(join(nas.dir, TARGET)))}, last backup ${s(b.ms)}, elapsed ${s(performance.now() - t0)}`,
                );
            }
        }
        runner(["prune", "--target", TARGET]);
        const prunedPlan = JSON.parse(runner(["prune", "--target", TARGET, "--dry-run", "--json"]).stdout) as {
            decisions: { role: string; action: string }[];
        };
        const keptAfterPrune = prunedPlan.decisions.filter((d) => d.role === "data").length;
        const nasBytes = bytesBelow(join(nas.dir, TARGET));
        const fcBytes = fcSizes.reduce((a, b) => a + b, 0);
        const dumpZ0Bytes = Number(
            /"bytes":(\d+)/.exec(runner(["backup", "--target", TARGET, "--database", TARGET, "--json"]).stdout)?.[1] ??
                0,
        );

        console.log(`timing backup against bare pg_dump -Fc -Z0 > /dev/null (${REPEAT}×) …`);
        const pgEnvAll = { ...process.env, ...pg.env };
        const bareDump: number[] = [];
        const runnerBackup: number[] = [];
        for (let r = 0; r < REPEAT; r++) {
            bareDump.push(
                sh("sh", ["-c", `"${pgBin("pg_dump")}" -Fc -Z0 --dbname=${TARGET} > /dev/null`], pgEnvAll).ms,
            );
            runnerBackup.push(runner(["backup", "--target", TARGET, "--database", TARGET]).ms);
        }

        console.log(`timing restore against bare pg_restore from a local file (${REPEAT}×) …`);
        const localDump = join(work, "local.dump");
        sh(pgBin("pg_dump"), ["-Fc", "-Z0", `--dbname=${TARGET}`, "-f", localDump], pgEnvAll);
        const bareRestore: number[] = [];
        const runnerRestore: number[] = [];
        for (let r = 0; r < REPEAT; r++) {
            pg.sql("postgres", "DROP DATABASE IF EXISTS bare_restore");
            const start = performance.now();
            pg.sql("postgres", "CREATE DATABASE bare_restore");
            sh(
                pgBin("pg_restore"),
                [
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-owner",
                    "--no-acl",
                    "--dbname=bare_restore",
                    localDump,
                ],
                pgEnvAll,
            );
            bareRestore.push(performance.now() - start);
            pg.sql("postgres", "DROP DATABASE IF EXISTS runner_restore");
            runnerRestore.push(
                runner(["restore", "--target", TARGET, "--into-database", "runner_restore", "--create", "--no-owner"])
                    .ms,
            );
        }
        // The content proof of a restore (and of the drill): content digests, sequences and schema
        // objects, against the row counts alone it replaced, on the restored database.
        const proof = { content: [] as number[], counts: [] as number[] };
        for (let r = 0; r < REPEAT; r++) {
            proof.content.push(timed(() => pg!.sql("runner_restore", `${CONTENT_SQL};\n${SEQUENCES_SQL}`)));
            proof.counts.push(timed(() => pg!.sql("runner_restore", COUNTS_ONLY_SQL)));
        }
        // The fixed cost per run (process starts, restic key derivation and index, psql round trips),
        // from the same operations on an empty database: it does not grow with the data.
        pg.sql("postgres", "CREATE DATABASE empty");
        const fixed = {
            runnerBackup: [] as number[],
            bareDump: [] as number[],
            runnerRestore: [] as number[],
            bareRestore: [] as number[],
        };
        const emptyDump = join(work, "empty.dump");
        runner(["backup", "--target", "empty", "--database", "empty"]); // creates the repository: not timed
        for (let r = 0; r < REPEAT; r++) {
            fixed.bareDump.push(
                sh("sh", ["-c", `"${pgBin("pg_dump")}" -Fc -Z0 --dbname=empty > /dev/null`], pgEnvAll).ms,
            );
            fixed.runnerBackup.push(runner(["backup", "--target", "empty", "--database", "empty"]).ms);
        }
        sh(pgBin("pg_dump"), ["-Fc", "-Z0", "--dbname=empty", "-f", emptyDump], pgEnvAll);
        for (let r = 0; r < REPEAT; r++) {
            pg.sql("postgres", "DROP DATABASE IF EXISTS bare_empty");
            const start = performance.now();
            pg.sql("postgres", "CREATE DATABASE bare_empty");
            sh(
                pgBin("pg_restore"),
                ["--single-transaction", "--exit-on-error", "--dbname=bare_empty", emptyDump],
                pgEnvAll,
            );
            fixed.bareRestore.push(performance.now() - start);
            pg.sql("postgres", "DROP DATABASE IF EXISTS runner_empty");
            fixed.runnerRestore.push(
                runner(["restore", "--target", "empty", "--into-database", "runner_empty", "--create"]).ms,
            );
        }
        const fixedMs = {
            runnerBackup: median(fixed.runnerBackup),
            bareDump: median(fixed.bareDump),
            runnerRestore: median(fixed.runnerRestore),
            bareRestore: median(fixed.bareRestore),
        };
        const streaming = {
            backupRatio: (median(runnerBackup) - fixedMs.runnerBackup) / (median(bareDump) - fixedMs.bareDump),
            restoreRatio: (median(runnerRestore) - fixedMs.runnerRestore) / (median(bareRestore) - fixedMs.bareRestore),
        };

        const verify = JSON.parse(
            runner(["verify", "--target", TARGET, "--read-data-subset", "10%", "--json"]).stdout,
        ) as { drill: { durationSeconds: number; rtoSeconds: number } };
        const resticOpen = median(
            Array.from(
                { length: 3 },
                () =>
                    sh("restic", ["snapshots", "--no-lock", "--json"], {
                        ...process.env,
                        ...nas!.resticEnv(TARGET, "maintenance"),
                    }).ms,
            ),
        );

        const contentProof = {
            contentMs: median(proof.content),
            countsOnlyMs: median(proof.counts),
            /** Extra time of the content proof over the row counts, as a share of the restore's wall time. */
            extraShareOfRestore: (median(proof.content) - median(proof.counts)) / median(runnerRestore),
        };
        const results = {
            contentProof,
            storage: {
                runnerNasBytes: nasBytes,
                pgDumpFcBytes: fcBytes,
                ratio: fcBytes / nasBytes,
                target: 10,
                met: fcBytes / nasBytes >= 10,
            },
            backupTime: {
                runnerMs: median(runnerBackup),
                bareMs: median(bareDump),
                ratio: median(runnerBackup) / median(bareDump),
                target: 1.3,
                met: median(runnerBackup) / median(bareDump) <= 1.3,
            },
            restoreTime: {
                runnerMs: median(runnerRestore),
                bareMs: median(bareRestore),
                ratio: median(runnerRestore) / median(bareRestore),
                target: 1.3,
                met: median(runnerRestore) / median(bareRestore) <= 1.3,
            },
        };
        const report = {
            date: new Date().toISOString(),
            parameters: {
                days: times.length,
                sizeMb: SIZE_MB,
                rows: ROWS,
                workload: WORKLOAD,
                dailyChange: perDay,
                repeat: REPEAT,
            },
            environment: {
                cpus: cpus().length,
                cpu: cpus()[0]?.model,
                restic: sh("restic", ["version"]).stdout.trim(),
                postgres: pg.sql("postgres", "SHOW server_version"),
            },
            database: { bytes: dbBytes, dumpUncompressedBytes: dumpZ0Bytes },
            retention: { keptBackupsExpected: keptDays.size, keptBackupsAfterPrune: keptAfterPrune },
            results,
            fixedCostMs: fixedMs,
            /** Informational: the ratios without the fixed cost per run, i.e. what they approach for large databases. */
            withoutFixedCost: streaming,
            details: {
                dailyBackupMedianMs: median(backupMs),
                bareDumpMs: bareDump,
                runnerBackupMs: runnerBackup,
                bareRestoreMs: bareRestore,
                runnerRestoreMs: runnerRestore,
                verifyDrillSeconds: verify.drill.durationSeconds,
                rtoSeconds: verify.drill.rtoSeconds,
                resticOpenMs: resticOpen,
            },
            totalSeconds: (performance.now() - t0) / 1000,
        };

        const rows: [string, string, string, string, string, string][] = [
            [
                `NAS bytes after ${times.length} daily backups + prune (${keptAfterPrune} kept)`,
                mb(nasBytes),
                mb(fcBytes),
                `${results.storage.ratio.toFixed(1)}× smaller`,
                "≥ 10×",
                results.storage.met ? "yes" : "NO",
            ],
            [
                "backup wall time vs pg_dump -Fc -Z0 > /dev/null",
                s(results.backupTime.runnerMs),
                s(results.backupTime.bareMs),
                results.backupTime.ratio.toFixed(2),
                "≤ 1.3",
                results.backupTime.met ? "yes" : "NO",
            ],
            [
                "restore wall time vs pg_restore from a local file",
                s(results.restoreTime.runnerMs),
                s(results.restoreTime.bareMs),
                results.restoreTime.ratio.toFixed(2),
                "≤ 1.3",
                results.restoreTime.met ? "yes" : "NO",
            ],
        ];
        const header: [string, string, string, string, string, string] = [
            "measure",
            "runner",
            "baseline",
            "ratio",
            "target",
            "met",
        ];
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i])).join("  ");
        console.log("");
        console.log(line(header));
        console.log(widths.map((w) => "-".repeat(w)).join("  "));
        for (const r of rows) console.log(line(r));
        console.log("");
        console.log(
            `fixed cost per run (empty database): backup ${s(fixedMs.runnerBackup)} vs pg_dump ${s(fixedMs.bareDump)}, restore ${s(fixedMs.runnerRestore)} vs pg_restore ${s(fixedMs.bareRestore)}; ` +
                `without it the ratios are backup ${streaming.backupRatio.toFixed(2)}, restore ${streaming.restoreRatio.toFixed(2)} (informational)`,
        );
        console.log(
            `database ${mb(dbBytes)} at the start, dump ${mb(dumpZ0Bytes)} uncompressed at the end; workload ${WORKLOAD}: daily +${perDay.insert} / -${perDay.delete} / ~${perDay.update} rows; ` +
                `one restic start (key derivation, index) ${s(resticOpen)}; restore drill in verify ${verify.drill.durationSeconds} s (RTO ${verify.drill.rtoSeconds} s); ` +
                `${cpus().length} CPUs; total ${s(performance.now() - t0)}`,
        );
        console.log(
            `content proof on the restored database ${s(contentProof.contentMs)} vs row counts alone ${s(contentProof.countsOnlyMs)}: ` +
                `${(contentProof.contentMs / contentProof.countsOnlyMs).toFixed(1)}× the counts, +${(contentProof.extraShareOfRestore * 100).toFixed(0)} % of the restore's wall time`,
        );
        mkdirSync(dirname(values.out), { recursive: true });
        writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
        console.log(`written ${values.out}`);
    } finally {
        pg?.cleanup();
        await nas?.cleanup();
        rmSync(work, { recursive: true, force: true });
    }
}

main().catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
});
