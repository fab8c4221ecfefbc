/**
 * Where a restore's time goes (not part of the test suite): on the bench's orders database of
 * `--size-mb` MB, interleaved rounds of a bare pg_restore of a local file, `restic dump` alone,
 * `restic dump | pg_restore` without the runner, and the runner's restore, with wall time and the
 * client CPU of each.
 *
 *     npx tsx runner/bench/restorePath.ts [rounds (3)] [--size-mb N (1000)]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repositoryKeys, startNas, startPostgres } from "../../test/runner/harness";
import { compileRunner } from "./build";
import { ordersRows, ordersSql } from "./orders";

const args = parseArgs({ allowPositionals: true, options: { "size-mb": { type: "string" } } });
const rounds = Number(args.positionals[0] ?? 3);
const sizeMb = Number(args.values["size-mb"] ?? 1000);

function timed(cmd: string, env: NodeJS.ProcessEnv): { wall: number; cpu: number } {
    const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S", "sh", "-c", cmd], { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
    const [e, u, s] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
    return { wall: e, cpu: u + s };
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Runs = Record<string, { wall: number; cpu: number }[]>;

/** Each case once per round, in turn, on a new empty database `r`. */
function measure(cases: Record<string, string>, fresh: () => void, env: NodeJS.ProcessEnv): Runs {
    const res: Runs = {};
    console.log(
        `load before: ${loadavg()
            .map((l) => l.toFixed(1))
            .join(" ")}`,
    );
    for (let i = 0; i < rounds; i++) {
        for (const [name, cmd] of Object.entries(cases)) {
            fresh();
            (res[name] ??= []).push(timed(cmd, env));
        }
    }
    console.log(
        `load after: ${loadavg()
            .map((l) => l.toFixed(1))
            .join(" ")}`,
    );
    return res;
}

function report(res: Runs): void {
    const bare = med(Object.values(res)[0].map((x) => x.wall));
    for (const [name, xs] of Object.entries(res)) {
        const wall = med(xs.map((x) => x.wall));
        const walls = xs.map((x) => x.wall.toFixed(2)).join(" ");
        console.log(
            `${name.padEnd(30)} wall ${wall.toFixed(2)} s = ${(wall / bare).toFixed(2)}× bare; client CPU ${med(xs.map((x) => x.cpu)).toFixed(2)} s  [${walls}]`,
        );
    }
}

async function main(): Promise<void> {
    const work = mkdtempSync(join(tmpdir(), "restorepath-"));
    const cli = compileRunner(join(work, "build"));
    const [pg, nas] = await Promise.all([startPostgres(), startNas()]);
    try {
        pg.sql("postgres", "CREATE DATABASE sized");
        pg.sql("sized", ordersSql(ordersRows(sizeMb)));
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...nas.env, ...pg.env };
        timed(`node ${cli} backup --target t --database sized`, env);
        const local = join(work, "local.dump");
        const bin = (p: string): string => `"${join(pg.binDir, p)}"`;
        timed(`${bin("pg_dump")} -Fc -Z0 -d sized -f ${local}`, env);
        // restic with the runner's quick key, as the runner starts it.
        const renv = { ...env, ...nas.resticEnv("t", "backup"), RESTIC_KEY_HINT: repositoryKeys(nas, "t").quick };
        const resticDump = "restic dump --tag kind=database latest /t.pgdump";
        const restoreArgs = "--single-transaction --exit-on-error --no-owner --no-acl";
        const cases = {
            "bare pg_restore (local file)": `${bin("pg_restore")} ${restoreArgs} -d r ${local}`,
            "restic dump > /dev/null": `${resticDump} > /dev/null`,
            "restic dump | pg_restore": `${resticDump} | stdbuf -i 1M ${bin("pg_restore")} ${restoreArgs} -d r`,
            "runner restore": `node ${cli} restore --target t --into-database r --no-owner`,
        };
        report(measure(cases, () => pg.sql("postgres", "DROP DATABASE IF EXISTS r; CREATE DATABASE r"), renv));
    } finally {
        pg.cleanup();
        await nas.cleanup();
        rmSync(work, { recursive: true, force: true });
    }
}
void main();
