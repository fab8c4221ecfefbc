/** The runner compiled as in the image (tsc with runner/tsconfig.build.json), for the benchmarks. */
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";

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
