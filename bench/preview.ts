/**
 * `npm run bench:preview` (issue 14): how long `pulumi preview`/`pulumi up` wait for the policy pack
 * and for the program before anything is asked of Azure. One run of each, started exactly as the CLI
 * starts them (no CLI, no cloud: a fake engine and resource monitor on 127.0.0.1 answer instead):
 *
 *  1. the policy pack as CI runs it (`npm run build:policies`, then the pulumi-analyzer-policy shim's
 *     `node <run-policy-pack> <engine> .` in dist/policy-pack/policies) until GetAnalyzerInfo answers,
 *     against an empty JavaScript pack started the same way (goal: ≤ 2.5×);
 *  2. the program as CI starts it (the language host's `node <@pulumi/pulumi/cmd/run> --monitor …
 *     --engine … --project --stack --pwd --dry-run .`, PULUMI_NODEJS_TYPESCRIPT=true from Pulumi.yaml,
 *     the stack's config in PULUMI_CONFIG, PULUMI_NODEJS_TRANSPILE_ONLY=true as the workflows set it)
 *     until its first resource registration reaches the monitor, against a transpile-only load of
 *     stacks/program.ts (`node -r ts-node/register/transpile-only`) (goal: ≤ 2.5×).
 *
 * For comparison it also starts both the way they started before: the TypeScript pack (policies/,
 * type-checked by run-policy-pack's ts-node) and the program without PULUMI_NODEJS_TRANSPILE_ONLY.
 * Prints a table with the ratios and writes bench-results/preview-bench.json.
 *
 * Options: --stack NAME (prod) --out PATH --no-before (skip the two slow comparison starts)
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { buildPolicyPack, compiledPackDir } from "../policies/build";
import { readStackFile, runtimeConfig } from "../stacks/offline";
import { rpc, startFakeEngine, startPack } from "../test/policies/analyzerProcess";
import { startFakeMonitor } from "./fakeMonitor";

const root = path.resolve(__dirname, "..");
const goal = 2.5;
const { values } = parseArgs({
    options: {
        stack: { type: "string", default: "prod" },
        out: { type: "string", default: path.join(root, "bench-results", "preview-bench.json") },
        "no-before": { type: "boolean", default: false },
    },
});

const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** Milliseconds from starting the pack in `dir` until GetAnalyzerInfo answers (and how many rules it lists). */
async function packStart(dir: string): Promise<{ ms: number; rules: number }> {
    const engine = await startFakeEngine();
    const started = performance.now();
    const pack = await startPack(engine, values.stack, dir);
    try {
        const info = await rpc(pack.client).getAnalyzerInfo();
        return { ms: performance.now() - started, rules: info.getPoliciesList().length };
    } finally {
        await pack.stop();
        await engine.stop();
    }
}

/** An empty JavaScript pack (one rule that never reports), in the repository so it resolves node_modules alike. */
function emptyPack(): string {
    const dir = path.join(root, ".tmp", "bench-empty-pack");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "PulumiPolicy.yaml"), "runtime: nodejs\n");
    fs.writeFileSync(path.join(dir, "package.json"), '{ "name": "empty", "version": "0.0.1", "main": "index.js" }\n');
    fs.writeFileSync(
        path.join(dir, "index.js"),
        'const { PolicyPack } = require("@pulumi/policy");\n' +
            'new PolicyPack("empty", { policies: [{ name: "nothing", description: "Reports nothing.", ' +
            'enforcementLevel: "advisory", validateResource: () => {} }] });\n',
    );
    return dir;
}

/** Milliseconds from starting the program as the language host does until its first resource registration. */
async function programStart(transpileOnly: boolean): Promise<{ ms: number; firstResource: string }> {
    const engine = await startFakeEngine();
    const monitor = await startFakeMonitor(values.stack);
    const file = readStackFile(values.stack);
    const { config, secretKeys } = runtimeConfig(file.project, file.config);
    const run = require.resolve("@pulumi/pulumi/cmd/run", { paths: [root] });
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
        PULUMI_NODEJS_TYPESCRIPT: "true",
    };
    delete env.PULUMI_NODEJS_TRANSPILE_ONLY;
    if (transpileOnly) env.PULUMI_NODEJS_TRANSPILE_ONLY = "true";
    const args = ["--monitor", monitor.address, "--engine", engine.address, "--project", file.project];
    args.push("--stack", values.stack, "--pwd", root, "--dry-run", "--parallel", "16", ".");
    const started = performance.now();
    const child = spawn(process.execPath, [run, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    try {
        const firstResource = await Promise.race([
            monitor.firstProgramResource,
            new Promise<never>((_, reject) =>
                child.on("exit", (code) => reject(new Error(`program exited with ${code} first:\n${output}`))),
            ),
        ]);
        return { ms: performance.now() - started, firstResource };
    } finally {
        child.kill("SIGKILL");
        await monitor.stop();
        await engine.stop();
    }
}

/** Milliseconds for `node -r ts-node/register/transpile-only` to load stacks/program.ts and exit. */
function programLoadBaseline(): number {
    const started = performance.now();
    const result = spawnSync(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", "-e", 'require("./stacks/program.ts")'],
        { cwd: root, encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(`loading stacks/program.ts failed:\n${result.stderr}`);
    return performance.now() - started;
}

interface Row {
    readonly what: string;
    readonly ms: number;
    readonly baseline?: number;
}

function table(rows: readonly Row[]): string {
    const width = Math.max(...rows.map((r) => r.what.length));
    return rows
        .map((r) => {
            const ratio = r.baseline === undefined ? "" : `  ${(r.ms / r.baseline).toFixed(1)}×`;
            return `${r.what.padEnd(width)}  ${seconds(r.ms).padStart(5)} s${ratio}`;
        })
        .join("\n");
}

async function main(): Promise<number> {
    const built = performance.now();
    await buildPolicyPack();
    const buildMs = performance.now() - built;
    const empty = await packStart(emptyPack());
    const compiled = await packStart(compiledPackDir);
    const fromSource = values["no-before"] ? undefined : await packStart(path.join(root, "policies"));
    const load = programLoadBaseline();
    const program = await programStart(true);
    const typeChecked = values["no-before"] ? undefined : await programStart(false);

    const rows: Row[] = [
        { what: "npm run build:policies", ms: buildMs },
        { what: "empty JavaScript pack, started like the CLI does (baseline)", ms: empty.ms },
        { what: `policy pack, compiled (CI), ${compiled.rules} rules`, ms: compiled.ms, baseline: empty.ms },
        ...(fromSource
            ? [{ what: "before: policy pack from source (ts-node type-checks)", ms: fromSource.ms, baseline: empty.ms }]
            : []),
        { what: "transpile-only load of stacks/program.ts (baseline)", ms: load },
        {
            what: `program, as CI starts it (transpile-only) → ${program.firstResource}`,
            ms: program.ms,
            baseline: load,
        },
        ...(typeChecked
            ? [{ what: "before: program, type-checked by ts-node", ms: typeChecked.ms, baseline: load }]
            : []),
    ];
    process.stdout.write(`Stack ${values.stack}, one run each; ratio against the baseline above it.\n`);
    process.stdout.write(table(rows) + "\n");
    const packRatio = compiled.ms / empty.ms;
    const programRatio = program.ms / load;
    const met = packRatio <= goal && programRatio <= goal;
    process.stdout.write(
        `Goal ≤ ${goal}×: pack ${packRatio.toFixed(1)}×, program ${programRatio.toFixed(1)}× — ${met ? "met" : "NOT met"}.\n`,
    );
    fs.mkdirSync(path.dirname(values.out), { recursive: true });
    fs.writeFileSync(values.out, JSON.stringify({ stack: values.stack, goal, packRatio, programRatio, rows }, null, 2));
    process.stdout.write(`Written to ${path.relative(process.cwd(), values.out)}\n`);
    return met ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (e: unknown) => {
        process.stderr.write(`bench:preview: ${(e as Error).stack ?? String(e)}\n`);
        process.exit(2);
    },
);
