/**
 * Profile of the fixed cost (not part of the test suite): one backup and one restore of an empty
 * database under `strace -f -tt -e trace=execve,exit_group`, against real PostgreSQL and
 * `rclone serve restic` on 127.0.0.1, with the runner compiled as in the image. Prints, for every
 * child process, when it started and ended relative to the runner's start.
 *
 *     npx tsx runner/bench/profile.ts [--repeat N]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNas, startPostgres } from "../../test/runner/harness";
import { compileRunner } from "./shared";

const repeat = Number(process.argv[process.argv.indexOf("--repeat") + 1] || 3);
/** --http: also every HTTP request restic and the runner send to the NAS (method and path), with its time. */
const http = process.argv.includes("--http");

interface Proc {
    pid: string;
    start: number;
    end?: number;
    what: string;
    requests: string[];
}

function parse(file: string): { total: number; procs: Proc[] } {
    const procs = new Map<string, Proc>();
    /** Threads (restic's Go runtime, node's workers) by the process they belong to. */
    const owner = new Map<string, string>();
    const threadClone = new Set<string>();
    let t0 = -1;
    let last = 0;
    for (const line of readFileSync(file, "utf8").split("\n")) {
        const m = /^(\d+)\s+(\d+):(\d+):([\d.]+)\s+(.*)$/.exec(line);
        if (!m) continue;
        const t = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
        if (t0 < 0) t0 = t;
        last = t - t0;
        const [tid, rest] = [m[1], m[5]];
        const pid = owner.get(tid) ?? tid;
        // A thread's clone call may be split by strace ("<unfinished ...>", then "<... clone resumed>").
        if (/^clone3?\(.*CLONE_THREAD/.test(rest)) threadClone.add(tid);
        const cloned = /^(?:clone3?\(|<\.\.\. clone3? resumed>).*\) = (\d+)/.exec(rest);
        if (cloned && threadClone.delete(tid)) owner.set(cloned[1], pid);
        const request = /^write\(\d+, "(GET|HEAD|POST|DELETE) (\S+)/.exec(rest);
        if (request) {
            procs.get(pid)?.requests.push(`${(t - t0).toFixed(3)} ${request[1]} ${request[2]}`);
        }
        const exec = /^execve\("([^"]+)", \[(.*?)\]/.exec(rest);
        if (exec && !/= -1/.test(rest)) {
            const argv = exec[2]
                .split(", ")
                .map((a) => a.replace(/^"|"$/g, ""))
                .filter((a) => !/^(--pdeathsig|KILL|--|-o|-i|1M)$/.test(a) && !/setpriv|stdbuf/.test(a));
            const name = argv[0]?.split("/").pop() ?? "?";
            if (/setpriv|stdbuf/.test(exec[1])) continue;
            const what = [name, ...argv.slice(1, 3)].join(" ");
            const p = procs.get(pid);
            if (p && !/node/.test(what)) p.what = what;
            else if (!p) procs.set(pid, { pid, start: t - t0, what, requests: [] });
        }
        if (/exit_group|\+\+\+ exited/.test(rest)) {
            const p = procs.get(pid);
            if (p && p.end === undefined) p.end = t - t0;
        }
    }
    return { total: last, procs: [...procs.values()] };
}

/** Runs node with `args` under strace and reads the timeline. */
function traced(out: string, args: string[], env: NodeJS.ProcessEnv): { total: number; procs: Proc[] } {
    const trace = http ? "trace=execve,exit_group,clone,clone3,write" : "trace=execve,exit_group";
    const r = spawnSync("strace", ["-f", "-tt", "-s", "48", "-e", trace, "-o", out, process.execPath, ...args], {
        env,
        encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
    return parse(out);
}

async function main(): Promise<void> {
    const work = mkdtempSync(join(tmpdir(), "nas-backup-profile-"));
    const cli = compileRunner(join(work, "build"));
    const [pg, nas] = await Promise.all([startPostgres(), startNas()]);
    try {
        pg.sql("postgres", "CREATE DATABASE empty");
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...nas.env, ...pg.env };
        spawnSync(process.execPath, [cli, "backup", "--target", "empty", "--database", "empty"], { env });
        for (let i = 0; i < repeat; i++) {
            for (const [name, args] of [
                ["backup", ["backup", "--target", "empty", "--database", "empty"]],
                ["restore", ["restore", "--target", "empty", "--into-database", `r${i}`, "--create"]],
            ] as const) {
                const { total, procs } = traced(join(work, `${name}${i}.strace`), [cli, ...args], env);
                console.log(`\n${name} #${i + 1}: ${total.toFixed(3)} s (runner start to exit)`);
                for (const p of procs) {
                    console.log(
                        `  ${p.start.toFixed(3).padStart(7)} → ${(p.end ?? NaN).toFixed(3).padStart(7)}  (${((p.end ?? NaN) - p.start).toFixed(3)} s)  ${p.what}`,
                    );
                    for (const r of p.requests) console.log(`            ${r}`);
                }
            }
        }
        const restic = (): number => {
            const s = performance.now();
            spawnSync("restic", ["snapshots", "--no-lock", "--json"], {
                env: { ...process.env, ...nas.resticEnv("empty", "backup") },
            });
            return performance.now() - s;
        };
        const node = (): number => {
            const s = performance.now();
            spawnSync(process.execPath, [cli, "--help"], { env });
            return performance.now() - s;
        };
        console.log(
            `\none restic start (snapshots): ${[restic(), restic(), restic()].map((x) => (x / 1000).toFixed(3)).join(" ")} s`,
        );
        console.log(
            `compiled runner --help: ${[node(), node(), node()].map((x) => (x / 1000).toFixed(3)).join(" ")} s`,
        );
    } finally {
        pg.cleanup();
        await nas.cleanup();
        rmSync(work, { recursive: true, force: true });
    }
}
void main();
