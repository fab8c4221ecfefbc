/**
 * The users' CI (.github/workflows): every file passes a real validator (@action-validator/cli, GitHub's
 * workflow schema), so a broken workflow cannot land; and the workflows do what the project promises:
 * pull requests run type-check, tests and `npm run check` without secrets (forks too) and preview
 * every stack with the policy pack for branches of this repository; main deploys staging, trial, then
 * prod with the pack, one deployment per stack at a time, prod behind a protected environment; every
 * Pulumi step gets the compiled pack (built by an earlier step of its job) and loads the program
 * transpile-only, after `verify` type-checked both; no secret value in any file.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { compiledPackDir } from "../../policies/build";

const root = path.resolve(__dirname, "..", "..");
const dir = path.join(root, ".github", "workflows");
const files = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
const validator = path.join(root, "node_modules", ".bin", "action-validator");

interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
}
interface Job {
    uses?: string;
    needs?: string | string[];
    if?: string;
    environment?: string;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    permissions?: Record<string, string>;
    strategy?: { matrix: Record<string, string[]> };
    steps?: Step[];
}
interface Workflow {
    on: Record<string, unknown>;
    jobs: Record<string, Job>;
}

function load(file: string): Workflow {
    return YAML.parse(fs.readFileSync(path.join(dir, file), "utf8")) as Workflow;
}

function validate(file: string): { status: number | null; output: string } {
    const result = spawnSync(validator, [file], { encoding: "utf8" });
    return { status: result.status, output: result.stdout + result.stderr };
}

const stacks = fs
    .readdirSync(root)
    .flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? [])
    .sort();
const pulumiSteps = (job: Job) => (job.steps ?? []).filter((s) => s.uses?.startsWith("pulumi/actions@"));
const compiledPack = path.relative(root, compiledPackDir);

describe("GitHub workflows", () => {
    it("exist: pull request, deploy and the shared verification", () => {
        expect(files).toEqual(["deploy.yml", "pull-request.yml", "verify.yml"]);
    });

    it.each(files)("%s passes action-validator", (file) => {
        const { status, output } = validate(path.join(dir, file));
        expect(output).toBe("");
        expect(status).toBe(0);
    });

    it("action-validator rejects a broken workflow (so the check above can fail)", () => {
        const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "workflow-")), "broken.yml");
        fs.writeFileSync(
            broken,
            "name: broken\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    step:\n      - run: echo\n",
        );
        expect(validate(broken).status).not.toBe(0);
    });

    it("verify runs install, type-check, tests and the offline check, with no secret", () => {
        const text = fs.readFileSync(path.join(dir, "verify.yml"), "utf8");
        const runs = (load("verify.yml").jobs.verify.steps ?? []).map((s) => s.run ?? "");
        for (const command of ["npm ci", "npm run typecheck", "npm test", "npm run check"]) {
            expect(
                runs.some((r) => r.includes(command)),
                command,
            ).toBe(true);
        }
        expect(text).not.toContain("secrets.");
        expect(load("verify.yml").on).toHaveProperty("workflow_call");
    });

    it("pull requests: verify for everyone, preview of every stack with the policy pack for branches of this repository", () => {
        const wf = load("pull-request.yml");
        expect(wf.on).toHaveProperty("pull_request");
        expect(wf.jobs.verify.uses).toBe("./.github/workflows/verify.yml");
        const preview = wf.jobs.preview;
        expect(preview.needs).toBe("verify");
        expect(preview.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
        expect([...preview.strategy!.matrix.stack].sort()).toEqual(stacks);
        expect(preview.permissions).toMatchObject({ "id-token": "write", "pull-requests": "write" });
        const [step] = pulumiSteps(preview);
        expect(step.with).toMatchObject({ command: "preview", policyPacks: compiledPack, "comment-on-pr": true });
        expect(step.env).toMatchObject({
            ARM_USE_OIDC: "true",
            PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
            DIGITALOCEAN_TOKEN: "${{ secrets.DIGITALOCEAN_TOKEN }}",
        });
    });

    it("main: staging, then trial, then prod behind a protected environment; pulumi up with the pack, one deployment per stack at a time", () => {
        const wf = load("deploy.yml");
        expect(wf.on).toMatchObject({ push: { branches: ["main"] } });
        expect(wf.jobs.staging.needs).toBe("verify");
        expect(wf.jobs.staging.if).toBe("github.ref == 'refs/heads/main'");
        expect(wf.jobs.trial.needs).toBe("staging");
        expect(wf.jobs.prod.needs).toBe("trial");
        expect(wf.jobs.prod.environment).toBe("production");
        for (const stack of stacks) {
            const job = wf.jobs[stack];
            expect(job.concurrency).toEqual({ group: `pulumi-up-${stack}`, "cancel-in-progress": false });
            const [step] = pulumiSteps(job);
            expect(step.with).toMatchObject({ command: "up", policyPacks: compiledPack });
            expect(String(step.with?.["stack-name"])).toContain(stack);
        }
    });

    it("the policy pack path the workflows pass is where `npm run build:policies` writes the compiled pack", () => {
        expect(compiledPack).toBe(path.join("dist", "policy-pack", "policies"));
        const scripts = (
            JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }
        ).scripts;
        expect(scripts["build:policies"]).toBe("tsx policies/build.ts");
        expect(fs.existsSync(path.join(root, "policies", "PulumiPolicy.yaml"))).toBe(true);
    });

    it("every Pulumi step: the pack built by an earlier step of its job, the program transpile-only, after verify", () => {
        const jobs = ["pull-request.yml", "deploy.yml"].flatMap((file) =>
            Object.entries(load(file).jobs).map(([name, job]) => ({ file, name, job, wf: load(file) })),
        );
        const withPulumi = jobs.filter(({ job }) => pulumiSteps(job).length > 0);
        expect(withPulumi.map(({ file, name }) => `${file} ${name}`).sort()).toEqual([
            "deploy.yml prod",
            "deploy.yml staging",
            "deploy.yml trial",
            "pull-request.yml preview",
        ]);
        for (const { file, name, job, wf } of withPulumi) {
            const steps = job.steps ?? [];
            const build = steps.findIndex((s) => s.run?.trim() === "npm run build:policies");
            const install = steps.findIndex((s) => s.run?.includes("npm ci"));
            const where = `${file} ${name}`;
            expect(install, where).toBeGreaterThanOrEqual(0);
            expect(build, where).toBeGreaterThan(install);
            for (const step of pulumiSteps(job)) {
                expect(steps.indexOf(step), where).toBeGreaterThan(build);
                expect(step.with?.policyPacks, where).toBe(compiledPack);
                expect(step.env?.PULUMI_NODEJS_TRANSPILE_ONLY, where).toBe("true");
            }
            // A type error stops the run before any Pulumi step: each such job waits for verify (directly
            // or through the job before it), and verify type-checks.
            let needs = job.needs;
            const chain = [name];
            while (needs !== undefined && needs !== "verify") {
                const next = String(needs);
                chain.push(next);
                needs = wf.jobs[next]?.needs;
            }
            expect(needs, `${where}: ${chain.join(" ← ")}`).toBe("verify");
            expect(wf.jobs.verify.uses).toBe("./.github/workflows/verify.yml");
        }
        const verifySteps = (load("verify.yml").jobs.verify.steps ?? []).map((s) => s.run ?? "");
        expect(verifySteps.some((r) => r.includes("npm run typecheck"))).toBe(true);
    });

    it("no secret value in any file: credentials only as ${{ secrets.* }}, Azure by OIDC", () => {
        for (const file of files) {
            const wf = load(file);
            for (const job of Object.values(wf.jobs)) {
                for (const step of job.steps ?? []) {
                    for (const [key, value] of Object.entries({ ...step.env, ...step.with })) {
                        if (/token|secret|password|key/i.test(key) && !/^(ARM_USE_OIDC)$/.test(key)) {
                            expect(String(value), `${file} ${key}`).toMatch(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/);
                        }
                    }
                    expect(Object.keys(step.env ?? {}).filter((k) => /CLIENT_SECRET/.test(k))).toEqual([]);
                }
            }
        }
    });
});
