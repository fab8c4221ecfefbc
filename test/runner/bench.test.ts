/**
 * `npm run bench` runs in plain Node (tsx), outside vitest: its imports (the runner, the test harness
 * that starts PostgreSQL and the NAS) must load there. These cases start it only far enough to parse
 * its options; the benchmark itself stays out of the suite.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./harness";

function bench(...args: string[]) {
    return spawnSync(join(repoRoot, "node_modules/.bin/tsx"), [join(repoRoot, "runner/bench/bench.ts"), ...args], {
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 60_000,
    });
}

describe("npm run bench", () => {
    it("loads outside vitest and prints its options for --help", () => {
        const r = bench("--help");
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/^usage: npm run bench -- .*--size-mb N .*--workload churn\|hot/);
    });

    it("refuses an unknown option by name, with the usage, exit 2", () => {
        const r = bench("--sizemb", "1000");
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("--sizemb");
        expect(r.stderr).toContain("usage: npm run bench");
    });
});
