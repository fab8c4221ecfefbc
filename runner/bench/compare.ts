/**
 * Before and after (not part of the test suite): the runner of a git commit and the one in this
 * working tree, both compiled as in the image, run interleaved against real PostgreSQL and `rclone
 * serve restic` on 127.0.0.1, so both see the same load. On an empty database (default) it prints
 * medians of the fixed cost (runner − bare pg_dump, or − bare CREATE DATABASE + pg_restore, as `npm
 * run bench` measures it) in seconds and in restic starts; with `--size-mb N`, on the bench's orders
 * database of that size, the ratios to the same bare tools (a backup after a first one, as every daily
 * backup but the first). Both with the client CPU of each run.
 *
 *     npx tsx runner/bench/compare.ts <commit> [rounds (5)] [--size-mb N]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repositoryKeys, startNas, startPostgres, type Nas, type Postgres } from "../../test/runner/harness";
import { compileCommit, compileRunner, loadText, median, quietServer, settle, timedProcess } from "./shared";
import { ordersRows, ordersSql } from "./orders";

const args = parseArgs({ allowPositionals: true, options: { "size-mb": { type: "string" } } });
const [ref, roundsArg] = args.positionals;
if (!ref) throw new Error("usage: npx tsx runner/bench/compare.ts <commit> [rounds (5)] [--size-mb N]");
const rounds = Number(roundsArg ?? 5);
const sizeMb = args.values["size-mb"] === undefined ? undefined : Number(args.values["size-mb"]);
/** The database backed up and restored: empty (the fixed cost) or the bench's orders of `--size-mb`. */
const DB = sizeMb === undefined ? "empty" : "sized";
/** As `npm run bench` restores: the sized database without owners (its roles are not on the target). */
const restoreOptions = sizeMb === undefined ? [] : ["--no-owner"];

const cpuRun = (cli: string, args: string[], env: NodeJS.ProcessEnv): { wall: number; cpu: number } =>
    timedProcess(process.execPath, [cli, ...args], env);
type Runs = Record<string, Record<"backup" | "restore", { wall: number; cpu: number }[]>>;
interface Baseline {
    dump: number[];
    restore: number[];
    restic: number[];
}

/** One round of the baselines: bare pg_dump, bare CREATE DATABASE + pg_restore, one restic start. */
function baselineRound(pg: Postgres, nas: Nas, localDump: string, calibratedKey: string, base: Baseline): void {
    const penv = { ...process.env, ...pg.env };
    settle(pg);
    let t = performance.now();
    spawnSync("sh", ["-c", `"${join(pg.binDir, "pg_dump")}" -Fc -Z0 -d ${DB} > /dev/null`], { env: penv });
    base.dump.push((performance.now() - t) / 1000);
    pg.sql("postgres", "DROP DATABASE IF EXISTS bare");
    settle(pg);
    t = performance.now();
    pg.sql("postgres", "CREATE DATABASE bare");
    const owners = sizeMb === undefined ? [] : ["--no-owner", "--no-acl"];
    spawnSync(join(pg.binDir, "pg_restore"), ["--single-transaction", ...owners, "-d", "bare", localDump], {
        env: penv,
    });
    base.restore.push((performance.now() - t) / 1000);
    t = performance.now();
    // One start with the key `restic init` calibrated (the unit of the fixed cost before the quick key).
    spawnSync("restic", ["snapshots", "--no-lock", "--json"], {
        env: { ...process.env, ...nas.resticEnv("e-after", "backup"), RESTIC_KEY_HINT: calibratedKey },
    });
    base.restic.push((performance.now() - t) / 1000);
}

function report(res: Runs, base: Baseline): void {
    const r1 = median(base.restic);
    console.log(
        `medians of ${rounds}, interleaved, ${sizeMb === undefined ? "empty database" : `~${sizeMb} MB`}: bare pg_dump ${median(base.dump).toFixed(2)} s, bare createdb+pg_restore ${median(base.restore).toFixed(2)} s, one restic start ${r1.toFixed(2)} s`,
    );
    for (const k of ["before", "after"]) {
        for (const op of ["backup", "restore"] as const) {
            const wall = median(res[k][op].map((x) => x.wall));
            const cpu = median(res[k][op].map((x) => x.cpu));
            const bare = op === "backup" ? median(base.dump) : median(base.restore);
            const against =
                sizeMb === undefined
                    ? `fixed ${(wall - bare).toFixed(2)} s = ${((wall - bare) / r1).toFixed(2)} restic starts`
                    : `${(wall / bare).toFixed(2)}× the bare tool`;
            console.log(
                `${k.padEnd(6)} ${op.padEnd(7)} wall ${wall.toFixed(2)} s, ${against}; client CPU ${cpu.toFixed(2)} s`,
            );
        }
    }
}

async function main(): Promise<void> {
    const work = mkdtempSync(join(tmpdir(), "compare-"));
    const clis = { before: compileCommit(ref, work), after: compileRunner(join(work, "bnew")) };
    const [pg, nas] = await Promise.all([startPostgres(), startNas()]);
    try {
        pg.sql("postgres", `CREATE DATABASE ${DB}`);
        if (sizeMb !== undefined) pg.sql(DB, ordersSql(ordersRows(sizeMb)));
        quietServer(pg, [DB]);
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...nas.env, ...pg.env };
        const res: Runs = { before: { backup: [], restore: [] }, after: { backup: [], restore: [] } };
        const base: Baseline = { dump: [], restore: [], restic: [] };
        for (const [k, cli] of Object.entries(clis))
            cpuRun(cli, ["backup", "--target", `e-${k}`, "--database", DB], env);
        const localDump = join(work, "local.dump");
        spawnSync(join(pg.binDir, "pg_dump"), ["-Fc", "-Z0", "-d", DB, "-f", localDump], {
            env: { ...process.env, ...pg.env },
        });
        console.log(`load before: ${loadText()}`);
        for (let i = 0; i < rounds; i++) {
            for (const [k, cli] of Object.entries(clis)) {
                settle(pg);
                res[k].backup.push(cpuRun(cli, ["backup", "--target", `e-${k}`, "--database", DB], env));
                pg.sql("postgres", `DROP DATABASE IF EXISTS r_${k}`);
                const restore = [
                    "restore",
                    "--target",
                    `e-${k}`,
                    "--into-database",
                    `r_${k}`,
                    "--create",
                    ...restoreOptions,
                ];
                settle(pg);
                res[k].restore.push(cpuRun(cli, restore, env));
            }
            baselineRound(pg, nas, localDump, repositoryKeys(nas, "e-after").calibrated!, base);
        }
        console.log(`load after: ${loadText()}`);
        report(res, base);
    } finally {
        pg.cleanup();
        await nas.cleanup();
        rmSync(work, { recursive: true, force: true });
    }
}
void main();
