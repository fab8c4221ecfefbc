/** What the benchmarks share: the runner compiled as in the image, a timed process, medians, the load. */
import { execSync, spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { freemem, loadavg } from "node:os";
import { join, resolve } from "node:path";
import type { Postgres } from "../../test/runner/harness";

export const repoRoot = resolve(__dirname, "../..");

/** Compiles the runner of the source tree `src` into `build`; returns the path of its cli.js. */
export function compileRunner(build: string, src = repoRoot): string {
    const r = spawnSync(
        process.execPath,
        [
            join(repoRoot, "node_modules/typescript/bin/tsc"),
            "-p",
            join(src, "runner/tsconfig.build.json"),
            "--outDir",
            build,
        ],
        { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(r.stdout);
    mkdirSync(join(build, "node_modules"));
    symlinkSync(join(repoRoot, "node_modules/luxon"), join(build, "node_modules/luxon"));
    return join(build, "runner/src/cli.js");
}

/** The runner of git commit `commit`, compiled as in the image below `work`; returns the path of its cli.js. */
export function compileCommit(commit: string, work: string): string {
    const tree = join(work, `tree-${commit}`);
    mkdirSync(tree);
    execSync(`git -C ${repoRoot} archive ${commit} | tar -x -C ${tree}`);
    symlinkSync(join(repoRoot, "node_modules"), join(tree, "node_modules"));
    return compileRunner(join(work, `build-${commit}`), tree);
}

/** Wall time (s) and client CPU (s, user + system of the process and its children) of one run; throws unless it exits 0. */
export function timedProcess(
    program: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
): { wall: number; cpu: number } {
    const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S", program, ...args], { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${program} ${args.join(" ")}: ${r.stderr}`);
    const [e, u, s] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
    return { wall: e, cpu: u + s };
}

export function median(xs: readonly number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The load averages (1, 5, 15 min), for the report. */
export const loadText = (): string =>
    loadavg()
        .map((l) => l.toFixed(1))
        .join(" ");

/**
 * Takes the server's background work out of the timings: autovacuum off (a freshly restored 1 GB table
 * is vacuumed by one or two workers for about a minute, starting up to a minute after the restore:
 * that fell into whichever timed run came next), running workers waited for, and `databases`
 * vacuumed and analysed once. Call `settle` before each timed run.
 */
export function quietServer(pg: Pick<Postgres, "sql">, databases: readonly string[]): void {
    pg.sql("postgres", "ALTER SYSTEM SET autovacuum = off; SELECT pg_reload_conf()");
    const busy = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'";
    while (Number(pg.sql("postgres", busy)) > 0) spawnSync("sleep", ["0.5"]);
    for (const db of databases) pg.sql(db, "VACUUM (ANALYZE)");
}

/**
 * Before each timed run: what the previous runs wrote is on disk (a checkpoint, then `sync`), not
 * written back during this one (a 1 GB restore writes ~2.5 GB: table, index, WAL); and three times
 * the largest database's size of free memory touched (`touchFreeMemory`), at most half of what is free.
 */
export function settle(pg: Pick<Postgres, "sql">): void {
    pg.sql("postgres", "CHECKPOINT");
    spawnSync("sync");
    const largest = Number(pg.sql("postgres", "SELECT max(pg_database_size(datname)) FROM pg_database"));
    touchFreeMemory(Math.min(3 * largest, freemem() / 2));
}

/**
 * Touches `bytes` of free memory once (a child process fills and frees them). A VM with free page
 * reporting (Firecracker's balloon, as on the bench's machine) hands memory the guest freed back to the
 * host within seconds, and the next run that fills the page cache faults every page in again: a 1 GB
 * restore took 2.0 s of system time after this and up to 4.9 s without, 6.5 s against 7.8–9.0 s wall,
 * depending on how long the memory had been free. Touched just before, every run finds the memory it
 * fills backed by the host, instead of the runs that followed a pause paying for it.
 */
function touchFreeMemory(bytes: number): void {
    const chunks = Math.ceil(bytes / 2 ** 26);
    spawnSync(process.execPath, [
        "-e",
        `const a = []; for (let i = 0; i < ${chunks}; i++) a.push(Buffer.alloc(2 ** 26, 1));`,
    ]);
}

/** Wall time and client CPU (s) of each run of a case. */
export type Runs = Record<string, { wall: number; cpu: number }[]>;

/** Each shell command of `cases` once per round, in turn, each after `fresh()` (a new empty target database) and `settle`. */
export function measure(
    cases: Record<string, string>,
    rounds: number,
    fresh: () => void,
    env: NodeJS.ProcessEnv,
    pg: Pick<Postgres, "sql">,
): Runs {
    const res: Runs = {};
    console.log(`load before: ${loadText()}`);
    for (let i = 0; i < rounds; i++) {
        for (const [name, cmd] of Object.entries(cases)) {
            fresh();
            settle(pg);
            (res[name] ??= []).push(timedProcess("sh", ["-c", cmd], env));
        }
    }
    console.log(`load after: ${loadText()}`);
    return res;
}

/** Each case against the first of its group (the bare tool). */
export function report(res: Runs, groups: readonly (readonly string[])[]): void {
    for (const group of groups) {
        const bare = median(res[group[0]].map((x) => x.wall));
        for (const name of group) {
            const xs = res[name];
            const wall = median(xs.map((x) => x.wall));
            const walls = xs.map((x) => x.wall.toFixed(2)).join(" ");
            console.log(
                `${name.padEnd(40)} wall ${wall.toFixed(2)} s = ${(wall / bare).toFixed(2)}× bare; client CPU ${median(xs.map((x) => x.cpu)).toFixed(2)} s  [${walls}]`,
            );
        }
    }
}
