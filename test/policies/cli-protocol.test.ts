/**
 * The pack the CLI loads (compiled by `npm run build:policies`, the step the workflows run before
 * `pulumi preview/up --policy-pack dist/policy-pack/policies`), started the way the Pulumi CLI starts
 * it (the pulumi-analyzer-policy shim's resolution of @pulumi/pulumi/cmd/run-policy-pack from the
 * pack's folder, ts-node registered, the analyzer gRPC protocol): it lists every rule, blocks a
 * non-compliant resource with a mandatory violation, and answers exactly what the in-process harness
 * (used by the tests and `npm run check`, on the TypeScript sources) answers.
 */
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import { buildPolicyPack } from "../../policies/build";
import {
    analyzeResource,
    analyzeStack,
    type AnalyzeResult,
    reconcileConfig,
    type ResourceUnderTest,
    secret,
    unknown,
} from "../../policies/harness/analyze";
import {
    analyzeRequest,
    analyzeStackRequest,
    configureRequest,
    type FakeEngine,
    fromResponse,
    packDir,
    resolveRunPolicyPack,
    rpc,
    type RunningPack,
    startFakeEngine,
    startPack,
} from "./analyzerProcess";
import { cases, containerAppsJobCases, previewOfStack, stack, stackWithContainerAppsJobs, stackWithNas } from "./cases";
import { protectedItem, protectionPolicy, server, storageAccount, types, withProp } from "./fixtures";
import { pack } from "./helpers";

let engine: FakeEngine;
let running: RunningPack;

beforeAll(async () => {
    await buildPolicyPack();
    engine = await startFakeEngine();
    running = await startPack(engine);
}, 180_000);

afterAll(async () => {
    await running?.stop();
    await engine?.stop();
});

const analyze = (r: ResourceUnderTest) => rpc(running.client).analyze(analyzeRequest(r)).then(fromResponse);
const analyzeStackRpc = (rs: readonly ResourceUnderTest[]) =>
    rpc(running.client).analyzeStack(analyzeStackRequest(rs)).then(fromResponse);
const configure = (config = reconcileConfig(pack)) => rpc(running.client).configure(configureRequest(config));

/** The harness's answer without the parts the protocol does not carry (severity, observations). */
function comparable(result: AnalyzeResult) {
    return {
        diagnostics: result.diagnostics.map(({ severity: _severity, ...d }) => d),
        notApplicable: result.notApplicable,
    };
}

describe("started like the Pulumi CLI starts a policy pack", () => {
    it("the shim's `require.resolve` from the compiled pack finds run-policy-pack in the repository's node_modules", () => {
        const root = path.resolve(__dirname, "..", "..");
        const expected = path.join(root, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack", "index.js");
        expect(path.relative(root, packDir)).toBe(path.join("dist", "policy-pack", "policies"));
        expect(fs.existsSync(path.join(packDir, "node_modules"))).toBe(false);
        expect(resolveRunPolicyPack()).toBe(fs.realpathSync(expected));
    });

    it("the folder holds the compiled pack: JavaScript only, with the pack's PulumiPolicy.yaml and version", () => {
        const files = fs.readdirSync(packDir, { recursive: true, encoding: "utf8" });
        expect(files.filter((f) => f.endsWith(".ts"))).toEqual([]);
        expect(files).toEqual(expect.arrayContaining(["index.js", "pack.js", "PulumiPolicy.yaml", "package.json"]));
        const pkg = JSON.parse(fs.readFileSync(path.join(packDir, "package.json"), "utf8")) as Record<string, string>;
        expect(pkg.main).toBe("index.js");
        expect(pkg.version).toBe(pack.version);
        const rules = fs.readdirSync(path.join(__dirname, "..", "..", "policies", "rules"));
        expect(rules.length).toBeGreaterThan(0);
        for (const rule of rules) expect(files).toContain(path.join("rules", rule.replace(/\.ts$/, ".js")));
    });

    it("answers Handshake as unimplemented, which the CLI accepts (it then uses the plugin's arguments)", async () => {
        const error = await rpc(running.client)
            .handshake(new analyzerProto.AnalyzerHandshakeRequest())
            .catch((e: grpc.ServiceError) => e);
        expect((error as grpc.ServiceError).code).toBe(grpc.status.UNIMPLEMENTED);
    });

    it("GetAnalyzerInfo lists every rule of the pack, mandatory, with its clause and config schema", async () => {
        const info = await rpc(running.client).getAnalyzerInfo();
        expect(info.getName()).toBe(pack.name);
        expect(info.getVersion()).toBe(pack.version);
        expect(info.getSupportsconfig()).toBe(true);
        const policies = info.getPoliciesList();
        expect(policies.map((p) => p.getName()).sort()).toEqual(pack.policies.map((p) => p.name).sort());
        for (const p of policies) {
            const local = pack.policies.find((l) => l.name === p.getName())!;
            expect(p.getEnforcementlevel(), p.getName()).toBe(analyzerProto.EnforcementLevel.MANDATORY);
            expect(p.getDescription()).toBe(local.description);
            expect(p.getDescription()).toMatch(/^§\d/);
            expect(p.getFramework()?.getReference()).toBe(local.framework?.reference);
            expect(p.getPolicyType()).toBe(
                "validateStack" in local
                    ? analyzerProto.PolicyType.POLICY_TYPE_STACK
                    : analyzerProto.PolicyType.POLICY_TYPE_RESOURCE,
            );
            const schema = p.getConfigschema()?.getProperties()?.toJavaScript() ?? {};
            expect(schema).toEqual(local.configSchema?.properties ?? {});
        }
        const retention = policies.find((p) => p.getName() === "postgresql-backup-retention")!;
        expect(retention.getConfigschema()?.getProperties()?.toJavaScript()).toMatchObject({
            retentionDays: { default: backupPolicy.database.retentionDays.value },
        });
    });

    it("Analyze returns a mandatory violation for a non-compliant resource and nothing for a compliant one", async () => {
        await configure();
        const bad = await analyze(withProp(server(), "backup.backupRetentionDays", 7));
        expect(bad.diagnostics).toHaveLength(1);
        expect(bad.diagnostics[0]).toMatchObject({
            policyName: "postgresql-backup-retention",
            enforcementLevel: "mandatory",
        });
        expect(bad.diagnostics[0].message).toContain(
            `backup.backupRetentionDays is 7; the policy requires ${backupPolicy.database.retentionDays.value}.`,
        );
        expect((await analyze(server())).diagnostics).toEqual([]);
    });

    it("AnalyzeStack returns a mandatory violation for an unprotected file share", async () => {
        await configure();
        const result = await analyzeStackRpc(stack.filter((r) => r.name !== "protect-images"));
        expect(result.diagnostics.map((d) => [d.policyName, d.enforcementLevel, d.urn])).toEqual([
            ["file-share-backup-coverage", "mandatory", stack.find((r) => r.name === "share-images")!.urn],
        ]);
    });
});

describe("the harness answers exactly like the running pack", () => {
    const allCases = [
        ...Object.entries(cases),
        ...Object.entries(containerAppsJobCases).map(([rule, c]) => [`${rule} (Container Apps Job)`, c] as const),
    ];
    const resources: [string, ResourceUnderTest][] = allCases.flatMap(([rule, c]) =>
        [c.compliant, ...c.nonCompliant.map((n) => n.input)]
            .filter((i): i is ResourceUnderTest => !Array.isArray(i))
            .map((r, i) => [`${rule} #${i}`, r] as [string, ResourceUnderTest]),
    );
    resources.push(
        ["unknown retention (preview)", withProp(server(), "backup.backupRetentionDays", unknown)],
        ["unknown encryption object (preview)", withProp(storageAccount(), "encryption", unknown)],
        ["secret password", withProp(server(), "administratorLoginPassword", secret("not-for-printing"))],
        [
            "a resource no rule is about",
            {
                type: "azure-native:resources:ResourceGroup",
                name: "rg",
                props: { resourceGroupName: "rg", location: backupPolicy.regions.azure.value },
            },
        ],
    );

    it.each(resources)("Analyze: %s", async (_title, resource) => {
        await configure();
        expect(await analyze(resource)).toEqual(
            comparable(await analyzeResource(pack, resource, { config: reconcileConfig(pack) })),
        );
    });

    const stacks: [string, ResourceUnderTest[]][] = allCases.flatMap(([rule, c]) =>
        [c.compliant, ...c.nonCompliant.map((n) => n.input)]
            .filter(Array.isArray)
            .map((s, i) => [`${rule} #${i}`, s] as [string, ResourceUnderTest[]]),
    );
    stacks.push(
        ["the compliant stack with NAS backups", stackWithNas],
        ["the compliant stack with NAS backups as Container Apps Jobs", stackWithContainerAppsJobs],
        ["an empty stack", []],
        [
            "preview: ids unknown, links through property dependencies",
            [
                ...stack.filter((r) => r.type !== types.item),
                ...["documents", "images"].map((s) => ({
                    ...withProp(
                        withProp(protectedItem(s), "properties.policyId", unknown),
                        "properties.sourceResourceId",
                        unknown,
                    ),
                    propertyDependencies: { properties: [protectionPolicy().urn!, storageAccount().urn!] },
                })),
            ],
        ],
        ["preview: names and ids unknown, shares and items linked only by property dependencies", previewOfStack()],
        [
            "preview: server parameter's server unknown",
            stack.map((r) => (r.name === "require-secure-transport" ? withProp(r, "serverName", unknown) : r)),
        ],
    );

    it.each(stacks)("AnalyzeStack: %s", async (_title, resources) => {
        await configure();
        expect(await analyzeStackRpc(resources)).toEqual(
            comparable(await analyzeStack(pack, resources, { config: reconcileConfig(pack) })),
        );
    });

    it("with policy config from the CLI (--policy-pack-config): retention 35 days makes the policy-compliant server fail", async () => {
        const config = reconcileConfig(pack, {
            "postgresql-backup-retention": { retentionDays: 35 },
            "storage-minimum-tls": "advisory",
        });
        await configure(config);
        const served = await analyze(server());
        expect(served).toEqual(comparable(await analyzeResource(pack, server(), { config })));
        expect(served.diagnostics.map((d) => d.policyName)).toEqual(["postgresql-backup-retention"]);
        const tls = await analyze(withProp(storageAccount(), "minimumTlsVersion", "TLS1_0"));
        expect(tls.diagnostics.map((d) => d.enforcementLevel)).toEqual(["advisory"]);
        await configure();
    });

    it("a pack process that ran all of this is still up and wrote no errors", () => {
        expect(running.process.exitCode).toBeNull();
        expect(running.stderr()).toBe("");
    });
});
