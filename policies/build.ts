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
 * What: every repository file the pack imports (found by following the imports from policies/index.ts,
 * so a new rule file needs no entry here), each compiled on its own to CommonJS with a source map, in
 * the repository's layout under dist/policy-pack; next to the compiled index.js the pack's
 * PulumiPolicy.yaml and its package.json with `main: index.js`. Node resolves @pulumi/* from there up to
 * the repository's node_modules, as it does for policies/.
 */
import * as fs from "fs";
import * as path from "path";
import * as esbuild from "esbuild";

const repositoryRoot = path.resolve(__dirname, "..");

/** Where the build goes (gitignored), in the repository's layout. */
export const buildDir = path.join(repositoryRoot, "dist", "policy-pack");

/** The compiled pack: `pulumi preview --policy-pack dist/policy-pack/policies`. */
export const compiledPackDir = path.join(buildDir, "policies");

/** Modules whose imports define what is compiled. */
const entryPoints = [path.join(repositoryRoot, "policies", "index.ts")];

/** The repository's TypeScript files reachable from the entry points (node_modules stay external). */
async function sourceFiles(): Promise<string[]> {
    const { metafile } = await esbuild.build({
        entryPoints,
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

/**
 * Compiles the pack into `outDir` (default dist/policy-pack): into a fresh sibling folder first, which
 * then replaces the old build, so no file of a deleted rule survives and a reader never sees half a build.
 */
export async function buildPolicyPack(outDir: string = buildDir): Promise<{ files: string[] }> {
    const files = await sourceFiles();
    const staging = `${outDir}.build-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    await esbuild.build({
        entryPoints: files,
        outdir: staging,
        outbase: repositoryRoot,
        format: "cjs",
        platform: "node",
        target: "node20",
        sourcemap: true,
        logLevel: "warning",
    });
    const packDir = path.join(staging, "policies");
    fs.copyFileSync(
        path.join(repositoryRoot, "policies", "PulumiPolicy.yaml"),
        path.join(packDir, "PulumiPolicy.yaml"),
    );
    fs.writeFileSync(path.join(packDir, "package.json"), compiledPackageJson());
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.renameSync(staging, outDir);
    return { files: files.map((f) => path.relative(repositoryRoot, f)) };
}

if (require.main === module) {
    buildPolicyPack().then(
        ({ files }) =>
            process.stdout.write(
                `policy pack compiled: ${files.length} files → ${path.relative(process.cwd(), compiledPackDir)}\n`,
            ),
        (e: unknown) => {
            process.stderr.write(`build:policies: ${(e as Error).message ?? e}\n`);
            process.exit(1);
        },
    );
}
