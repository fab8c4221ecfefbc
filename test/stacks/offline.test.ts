/**
 * The offline runner itself (stacks/offline.ts), with a small program of its own: config and
 * secrets as the CLI would hand them over, resource options as the program set them.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OfflineRun, runStackOffline, secretPlaceholder } from "../../stacks/offline";

let projectDir: string;

beforeAll(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-runner-"));
    fs.writeFileSync(path.join(projectDir, "Pulumi.yaml"), "name: demo\nruntime: nodejs\n");
    fs.writeFileSync(
        path.join(projectDir, "Pulumi.dev.yaml"),
        [
            "config:",
            "  demo:size: 3",
            "  demo:token:",
            "    secure: AAABAHhVLk4dLfEBnWgyPfqsXbeTmUE=",
            "  demo:nested:",
            "    user: alice",
            "    password:",
            "      secure: AAABAJq2x0Rr4fVfhA==",
            "",
        ].join("\n"),
    );
});

afterAll(() => fs.rmSync(projectDir, { recursive: true, force: true }));

class Group extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("demo:index:Group", name, {}, opts);
        this.registerOutputs({});
    }
}

function program(): Record<string, unknown> {
    const config = new pulumi.Config();
    const token = config.requireSecret("token");
    const group = new Group("group", { protect: true });
    const inherited = new random.RandomPassword(
        "inherited",
        { length: config.requireNumber("size") * 8 },
        { parent: group },
    );
    const provider = new random.Provider("explicit-provider");
    const options = new random.RandomString(
        "options",
        { length: 4, keepers: { token } },
        { ignoreChanges: ["length"], retainOnDelete: true, dependsOn: [inherited], provider },
    );
    return { token, plain: options.result, nested: config.requireObject<{ user: string }>("nested").user };
}

describe("runStackOffline", () => {
    let run: OfflineRun;

    beforeAll(async () => {
        run = await runStackOffline({ stack: "dev", projectDir, program });
    });

    it("sets the stack file's config, secure values as secret placeholders", () => {
        expect(run.error).toBeUndefined();
        expect(run.project).toBe("demo");
        expect(run.config["demo:size"]).toBe("3");
        expect(run.config["demo:token"]).toBe(secretPlaceholder("demo:token"));
        expect(JSON.parse(run.config["demo:nested"])).toEqual({
            user: "alice",
            password: secretPlaceholder("demo:nested"),
        });
        expect([...run.secretConfigKeys].sort()).toEqual(["demo:nested", "demo:token"]);
        expect(JSON.stringify(run.config)).not.toContain("AAAB");
    });

    it("reports resource options, protect inherited from the parent as Pulumi does", () => {
        const byName = (name: string) => run.resources.find((resource) => resource.name === name)!;
        expect(byName("group").options.protect).toBe(true);
        expect(byName("group").custom).toBe(false);
        expect(byName("inherited").options.protect).toBe(true);
        expect(byName("inherited").options.parent).toBe(byName("group").urn);
        expect(byName("inherited").inputs.length).toBe(24);
        const options = byName("options").options;
        expect(options.protect).toBe(false);
        expect(options.parent).toBe(run.stackUrn);
        expect(options.ignoreChanges).toEqual(["length"]);
        expect(options.retainOnDelete).toBe(true);
        expect(options.dependsOn).toEqual([byName("inherited").urn]);
        expect(options.provider).toBe(byName("explicit-provider").urn);
    });

    it("marks secrets in inputs, outputs and stack outputs", () => {
        const inherited = run.resources.find((resource) => resource.name === "inherited")!;
        const options = run.resources.find((resource) => resource.name === "options")!;
        expect(inherited.secretOutputs).toEqual(expect.arrayContaining(["result"]));
        expect(options.secretInputs).toEqual(["keepers"]);
        expect(options.inputs.keepers).toEqual({ token: secretPlaceholder("demo:token") });
        expect(run.secretOutputs).toEqual(["token"]);
        expect(run.outputs).toMatchObject({ token: secretPlaceholder("demo:token"), nested: "alice" });
    });

    it("returns the program's error and only what was registered before it", async () => {
        const failed = await runStackOffline({
            stack: "dev",
            projectDir,
            program: () => {
                throw new Error("config broken");
            },
        });
        expect(failed.error?.message).toBe("config broken");
        expect(failed.resources).toEqual([]);
        expect(failed.outputs).toEqual({});
    });

    /** A program whose one resource gets its length from an apply callback that throws. */
    const throwingApply = (exportIt: boolean) => (): Record<string, unknown> => {
        const length = pulumi.output(4).apply((): number => {
            throw new Error("apply broken");
        });
        const fed = new random.RandomString("fed", { length });
        return exportIt ? { fed: fed.result } : {};
    };

    // Without an engine nobody handled the SDK's rejection: the stack output waited for the resource forever.
    it("rejects with a throwing apply callback's error instead of waiting for the resource it feeds", async () => {
        const started = Date.now();
        await expect(runStackOffline({ stack: "dev", projectDir, program: throwingApply(true) })).rejects.toThrow(
            /unhandled rejection .*: error serializing property "length": apply broken/,
        );
        expect(Date.now() - started).toBeLessThan(5_000);
        // The next run is not stuck behind the failed one.
        expect((await runStackOffline({ stack: "dev", projectDir, program })).error).toBeUndefined();
    }, 15_000);

    it("rejects when the program returns but a resource it created could not be registered", async () => {
        // Before, this run "succeeded" without the resource: a check would have passed an incomplete stack.
        await expect(runStackOffline({ stack: "dev", projectDir, program: throwingApply(false) })).rejects.toThrow(
            /apply broken/,
        );
    });

    it("captures pulumi.log messages", async () => {
        const logged = await runStackOffline({
            stack: "dev",
            projectDir,
            program: () => {
                void pulumi.log.warn("careful");
                return {};
            },
        });
        expect(logged.log).toEqual([{ severity: "warning", message: "careful" }]);
    });
});
