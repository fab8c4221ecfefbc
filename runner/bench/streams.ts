/**
 * Where a backup's and a restore's time goes (not part of the test suite): on the bench's orders
 * database of `--size-mb` MB, interleaved rounds of the bare tools, the same streams through restic
 * without the runner, and the runner, with wall time and the client CPU of each:
 *   backup: bare `pg_dump -Fc -Z0 > /dev/null`, `pg_dump | restic backup --stdin`, the runner's backup
 *   (each after a first backup, as every daily backup but the first);
 *   restore: bare `pg_restore` of a local file, `restic dump` alone, `restic dump | pg_restore`, the
 *   runner's restore. restic with the runner's quick key, as the runner starts it.
 *
 *     npx tsx runner/bench/streams.ts [rounds (3)] [--size-mb N (1000)]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repositoryKeys, startNas, startPostgres } from "../../test/runner/harness";
import { compileRunner, measure, quietServer, report, timedProcess } from "./shared";
import { ordersRows, ordersSql } from "./orders";

const args = parseArgs({ allowPositionals: true, options: { "size-mb": { type: "string" } } });
const rounds = Number(args.positionals[0] ?? 3);
const sizeMb = Number(args.values["size-mb"] ?? 1000);

const timed = (cmd: string, env: NodeJS.ProcessEnv): void => void timedProcess("sh", ["-c", cmd], env);

async function main(): Promise<void> {
    const work = mkdtempSync(join(tmpdir(), "streams-"));
    const cli = compileRunner(join(work, "build"));
    const [pg, nas] = await Promise.all([startPostgres(), startNas()]);
    try {
        pg.sql("postgres", "CREATE DATABASE sized");
        pg.sql("sized", ordersSql(ordersRows(sizeMb)));
        quietServer(pg, ["sized"]);
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...nas.env, ...pg.env };
        timed(`node ${cli} backup --target t --database sized`, env);
        const local = join(work, "local.dump");
        const bin = (p: string): string => `"${join(pg.binDir, p)}"`;
        timed(`${bin("pg_dump")} -Fc -Z0 -d sized -f ${local}`, env);
        // restic with the runner's quick key, as the runner starts it.
        const renv = { ...env, ...nas.resticEnv("t", "backup"), RESTIC_KEY_HINT: repositoryKeys(nas, "t").quick };
        const resticDump = "restic dump --tag kind=database latest /t.pgdump";
        const restoreArgs = "--single-transaction --exit-on-error --no-owner --no-acl";
        const pgDump = `stdbuf -o 1M ${bin("pg_dump")} -Fc -Z0 -d sized`;
        const backups = {
            "bare pg_dump -Fc -Z0 > /dev/null": `${pgDump} > /dev/null`,
            "pg_dump | restic backup --stdin": `${pgDump} | restic backup --stdin --stdin-filename t.pgdump --host t --tag bench-stream -q`,
            "runner backup": `node ${cli} backup --target t --database sized`,
        };
        const restores = {
            "bare pg_restore (local file)": `${bin("pg_restore")} ${restoreArgs} -d r ${local}`,
            "restic dump > /dev/null": `${resticDump} > /dev/null`,
            "restic dump | pg_restore": `${resticDump} | stdbuf -i 1M ${bin("pg_restore")} ${restoreArgs} -d r`,
            "runner restore": `node ${cli} restore --target t --into-database r --no-owner`,
        };
        const fresh = (): void => void pg.sql("postgres", "DROP DATABASE IF EXISTS r; CREATE DATABASE r");
        report(measure({ ...backups, ...restores }, rounds, fresh, renv, pg), [
            Object.keys(backups),
            Object.keys(restores),
        ]);
    } finally {
        pg.cleanup();
        await nas.cleanup();
        rmSync(work, { recursive: true, force: true });
    }
}
void main();
