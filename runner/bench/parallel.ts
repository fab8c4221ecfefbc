/**
 * `restore --jobs 2` where it is meant to pay (not part of the test suite): a database of several
 * tables, each with indexes, instead of the bench's one table. Interleaved rounds, each into a new
 * empty database, of: bare `pg_restore --single-transaction` and bare `pg_restore --jobs 2` of a local
 * file pg_dump wrote (seekable, with data offsets), the runner's single-stream restore, and its
 * `restore --jobs 2`; with `--against <commit>`, also the `restore --jobs 2` of that commit's runner.
 * Ratios to the bare single-stream `pg_restore`.
 *
 *     npx tsx runner/bench/parallel.ts [rounds (3)] [--tables N (4)] [--size-mb N (1000)] [--against <commit>]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startNas, startPostgres } from "../../test/runner/harness";
import { compileCommit, compileRunner, measure, median, quietServer, report, timedProcess } from "./shared";
import { ordersRows, ordersSql } from "./orders";

const args = parseArgs({
    allowPositionals: true,
    options: { tables: { type: "string" }, "size-mb": { type: "string" }, against: { type: "string" } },
});
const rounds = Number(args.positionals[0] ?? 3);
const tables = Number(args.values.tables ?? 4);
const sizeMb = Number(args.values["size-mb"] ?? 1000);

async function main(): Promise<void> {
    const work = mkdtempSync(join(tmpdir(), "parallel-"));
    const cli = compileRunner(join(work, "build"));
    const against = args.values.against ? compileCommit(args.values.against, work) : undefined;
    const [pg, nas] = await Promise.all([startPostgres(), startNas()]);
    try {
        pg.sql("postgres", "CREATE DATABASE sized");
        for (let i = 1; i <= tables; i++) {
            pg.sql("sized", ordersSql(ordersRows(sizeMb / tables)).replaceAll("orders", `orders${i}`));
            pg.sql(
                "sized",
                `CREATE INDEX ON orders${i} (customer_id); CREATE INDEX ON orders${i} (created_at, status)`,
            );
        }
        quietServer(pg, ["sized"]);
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...nas.env, ...pg.env };
        const run = (cmd: string): void => void timedProcess("sh", ["-c", cmd], env);
        run(`node ${cli} backup --target t --database sized`);
        const local = join(work, "local.dump");
        const bin = (p: string): string => `"${join(pg.binDir, p)}"`;
        run(`${bin("pg_dump")} -Fc -Z0 -d sized -f ${local}`);
        const restore = `restore --target t --into-database r`;
        const cases: Record<string, string> = {
            "bare pg_restore --single-transaction": `${bin("pg_restore")} --single-transaction --exit-on-error -d r ${local}`,
            "bare pg_restore --jobs 2": `${bin("pg_restore")} --jobs=2 --exit-on-error -d r ${local}`,
            "runner restore": `node ${cli} ${restore}`,
            "runner restore --jobs 2": `node ${cli} ${restore} --jobs 2`,
            ...(against ? { [`${args.values.against} restore --jobs 2`]: `node ${against} ${restore} --jobs 2` } : {}),
        };
        console.log(`${tables} tables, ~${sizeMb} MB`);
        const fresh = (): void => void pg.sql("postgres", "DROP DATABASE IF EXISTS r; CREATE DATABASE r");
        const runs = measure(cases, rounds, fresh, env, pg);
        report(runs, [Object.keys(cases)]);
        const wall = (name: string): number => median(runs[name].map((x) => x.wall));
        console.log(
            `runner restore --jobs 2 / runner restore = ${(wall("runner restore --jobs 2") / wall("runner restore")).toFixed(2)}`,
        );
    } finally {
        pg.cleanup();
        await nas.cleanup();
        rmSync(work, { recursive: true, force: true });
    }
}
void main();
