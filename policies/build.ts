/**
 * `npm run build:policies`: the policy pack as JavaScript, in dist/policy-pack/policies, the folder the
 * workflows hand to `pulumi preview/up --policy-pack`.
 *
 * Why: the Pulumi CLI starts a pack through @pulumi/pulumi/cmd/run-policy-pack, which registers ts-node
 * with `typeCheck: true` hard-coded, so a TypeScript pack is type-checked (with everything it imports,
 * @pulumi/azure-native's declarations included) before the first rule runs. Compiled JavaScript skips
 * that; type safety stays with `npm run typecheck` (tsconfig.json has `isolatedModules`, so compiling
 * each file on its own, as here, means what tsc means).
 *
 * What: every repository file the pack and the offline check import (found by following the imports
 * from policies/index.ts and policies/check/cli.ts, so a new rule file needs no entry here), each
 * compiled on its own to CommonJS with a source map, in the repository's layout under dist/policy-pack;
 * next to the compiled index.js the pack's PulumiPolicy.yaml and its package.json with `main: index.js`.
 * Node resolves @pulumi/* from there up to the repository's node_modules, as it does for policies/.
 * `npm run check` runs `node dist/policy-pack/policies/check/cli.js` after building.
 */
import * as fs from "fs";
import * as path from "path";
import * as esbuild from "esbuild";

const repositoryRoot = path.resolve(__dirname, "..");

/** Where the build goes (gitignored), in the repository's layout. */
export const buildDir = path.join(repositoryRoot, "dist", "policy-pack");

/** The compiled pack: `pulumi preview --policy-pack dist/policy-pack/policies`. */
export const compiledPackDir = path.join(buildDir, "policies");

/**
 * Modules whose imports define what is compiled: the pack, and the offline check (`npm run check` runs
 * compiled too, so it applies the very pack.js the CLI's index.js loads, and starts faster).
 */
const entryPoints = [
    path.join(repositoryRoot, "policies", "index.ts"),
    path.join(repositoryRoot, "policies", "check", "cli.ts"),
];

/** The repository's TypeScript files reachable from the entry points (node_modules stay external). */
async function sourceFiles(): Promise<string[]> {
    const { metafile } = await esbuild.build({
        entryPoints,
        outdir: buildDir, // nothing is written (write: false); esbuild wants it for several entry points
        bundle: true,
        packages: "external",
        platform: "node",
        write: false,
        metafile: true,
        logLevel: "silent",
    });
    return Object.keys(metafile.inputs)
        .map((input) => path.resolve(repositoryRoot, input))
        .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"));
}

/** The pack's package.json for the compiled folder: the same name and version, `main` the compiled entry. */
function compiledPackageJson(): string {
    const pkg = JSON.parse(fs.readFileSync(path.join(repositoryRoot, "policies", "package.json"), "utf8")) as Record<
        string,
        unknown
    >;
    return JSON.stringify({ ...pkg, main: "index.js" }, null, 2) + "\n";
}

/** Writes `contents` to `file` unless it holds them already; through a temporary file, so a reader sees old or new. */
function writeIfChanged(file: string, contents: Uint8Array | string): void {
    const bytes = typeof contents === "string" ? Buffer.from(contents) : Buffer.from(contents);
    if (fs.existsSync(file) && fs.readFileSync(file).equals(bytes)) return;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, bytes);
    fs.renameSync(temporary, file);
}

/** Deletes every file under `dir` that is not in `keep` (the output of a deleted rule, say). */
function removeOthers(dir: string, keep: ReadonlySet<string>): void {
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
        const file = path.join(entry.parentPath, entry.name);
        if (entry.isFile() && !keep.has(file) && !file.endsWith(".tmp")) fs.rmSync(file, { force: true });
    }
}

/**
 * Compiles the pack into `outDir` (default dist/policy-pack). Only files whose content changes are
 * written (each atomically) and leftovers are deleted, so a build of unchanged sources touches nothing
 * and a pack or check already running from the folder keeps working while another process builds.
 */
export async function buildPolicyPack(outDir: string = buildDir): Promise<{ files: string[] }> {
    const files = await sourceFiles();
    const { outputFiles } = await esbuild.build({
        entryPoints: files,
        outdir: outDir,
        outbase: repositoryRoot,
        format: "cjs",
        platform: "node",
        target: "node20",
        // import() becomes require(), as tsc emits it for CommonJS.
        supported: { "dynamic-import": false },
        sourcemap: true,
        write: false,
        logLevel: "warning",
    });
    const packDir = path.join(outDir, "policies");
    const written = [
        ...outputFiles.map((f) => ({ file: f.path, contents: f.contents })),
        {
            file: path.join(packDir, "PulumiPolicy.yaml"),
            contents: fs.readFileSync(path.join(repositoryRoot, "policies", "PulumiPolicy.yaml")),
        },
        { file: path.join(packDir, "package.json"), contents: compiledPackageJson() },
    ];
    for (const { file, contents } of written) writeIfChanged(file, contents);
    removeOthers(outDir, new Set(written.map((w) => w.file)));
    return { files: files.map((f) => path.relative(repositoryRoot, f)) };
}

if (require.main === module) {
    const quiet = process.argv.includes("--quiet");
    buildPolicyPack().then(
        ({ files }) =>
            quiet ||
            process.stdout.write(
                `policy pack compiled: ${files.length} files → ${path.relative(process.cwd(), compiledPackDir)}\n`,
            ),
        (e: unknown) => {
            process.stderr.write(`build:policies: ${(e as Error).message ?? e}\n`);
            process.exit(1);
        },
    );
}
