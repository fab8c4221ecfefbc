/**
 * Starts the policy pack the way the Pulumi CLI does, and speaks the analyzer gRPC protocol to it.
 *
 * The CLI (pkg/resource/plugin/analyzer_plugin.go, NewPolicyAnalyzer, runtime nodejs) runs the
 * `pulumi-analyzer-policy` shim with the pack's folder as working directory and the arguments
 * `<engine address> .`; the shim resolves `@pulumi/pulumi/cmd/run-policy-pack` with Node from that
 * folder (so up to the repository's node_modules) and runs it with node. run-policy-pack registers
 * ts-node (type-checking; a compiled pack's .js files pass through it untouched), requires the folder
 * (package.json "main"), and the PolicyPack prints the port of its analyzer gRPC server on stdout.
 * The folder is the compiled pack (`npm run build:policies`, dist/policy-pack/policies), the one the
 * workflows pass to `--policy-pack`. The environment carries the
 * stack's identity (PULUMI_NODEJS_PROJECT/STACK/DRY_RUN, PULUMI_CONFIG).
 *
 * The engine address points at a small fake Engine service that records log calls.
 */
import { type ChildProcess, execFileSync, spawn } from "child_process";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import * as engineRpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineProto from "@pulumi/pulumi/proto/engine_pb";
import type { EnforcementLevel } from "@pulumi/policy";
import { compiledPackDir } from "../../policies/build";
import {
    type Diagnostic,
    type NotApplicable,
    type ReconciledConfig,
    type ResourceUnderTest,
    optionsOf,
    toWire,
    urnOf,
} from "../../policies/harness/analyze";

/** The folder the CLI is given with `--policy-pack`: the compiled pack. */
export const packDir = compiledPackDir;

const levels: Record<number, EnforcementLevel> = {
    [analyzerProto.EnforcementLevel.ADVISORY]: "advisory",
    [analyzerProto.EnforcementLevel.MANDATORY]: "mandatory",
    [analyzerProto.EnforcementLevel.REMEDIATE]: "remediate",
    [analyzerProto.EnforcementLevel.DISABLED]: "disabled",
};
const levelCodes = Object.fromEntries(Object.entries(levels).map(([code, level]) => [level, Number(code)])) as Record<
    EnforcementLevel,
    analyzerProto.EnforcementLevel
>;

export interface FakeEngine {
    readonly address: string;
    readonly logs: { severity: number; message: string }[];
    stop(): Promise<void>;
}

/** An Engine gRPC service that accepts log calls (and the other calls) and remembers the logs. */
export async function startFakeEngine(): Promise<FakeEngine> {
    const logs: FakeEngine["logs"] = [];
    const server = new grpc.Server();
    const implementation: engineRpc.IEngineServer = {
        log: (call, callback) => {
            logs.push({ severity: call.request.getSeverity(), message: call.request.getMessage() });
            callback(null, new Empty());
        },
        getRootResource: (_call, callback) => callback(null, new engineProto.GetRootResourceResponse()),
        setRootResource: (_call, callback) => callback(null, new engineProto.SetRootResourceResponse()),
        startDebugging: (_call, callback) => callback(null, new Empty()),
        requirePulumiVersion: (_call, callback) => callback(null, new engineProto.RequirePulumiVersionResponse()),
    };
    server.addService(engineRpc.EngineService, implementation);
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
            err ? reject(err) : resolve(p),
        ),
    );
    return {
        address: `127.0.0.1:${port}`,
        logs,
        stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    };
}

/** What the `pulumi-analyzer-policy` shim resolves from the pack's folder. */
export function resolveRunPolicyPack(dir: string = packDir): string {
    return execFileSync(
        process.execPath,
        ["-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))"],
        { cwd: dir, encoding: "utf8" },
    ).trim();
}

export interface RunningPack {
    readonly client: analyzerRpc.AnalyzerClient;
    readonly process: ChildProcess;
    readonly stderr: () => string;
    stop(): Promise<void>;
}

/** Starts the pack in `dir` like the CLI and connects to its analyzer service. */
export async function startPack(engine: FakeEngine, stack = "prod", dir: string = packDir): Promise<RunningPack> {
    const entry = resolveRunPolicyPack(dir);
    const child = spawn(process.execPath, [entry, engine.address, "."], {
        cwd: dir,
        env: {
            ...process.env,
            PULUMI_NODEJS_PROJECT: "backup-policy",
            PULUMI_NODEJS_STACK: stack,
            PULUMI_NODEJS_DRY_RUN: "true",
            PULUMI_PROJECT: "backup-policy",
            PULUMI_STACK: stack,
            PULUMI_DRY_RUN: "true",
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<string>((resolve, reject) => {
        let stdout = "";
        child.stdout.on("data", (d: Buffer) => {
            stdout += d.toString();
            const line = stdout.split("\n")[0];
            if (stdout.includes("\n") && /^\d+$/.test(line.trim())) {
                resolve(line.trim());
            }
        });
        child.on("exit", (code) =>
            reject(new Error(`policy pack exited with ${code} before printing its port:\n${stdout}\n${stderr}`)),
        );
    });
    const client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return {
        client,
        process: child,
        stderr: () => stderr,
        stop: async () => {
            client.close();
            if (child.exitCode === null) {
                const exited = new Promise((resolve) => child.once("exit", resolve));
                child.kill("SIGTERM");
                await exited;
            }
        },
    };
}

/** Promise wrapper of a unary call. */
export function call<Req, Res>(
    fn: (request: Req, callback: (error: grpc.ServiceError | null, response: Res) => void) => unknown,
    request: Req,
): Promise<Res> {
    return new Promise((resolve, reject) =>
        fn(request, (error, response) => (error ? reject(error) : resolve(response))),
    );
}

/** Configure as the CLI does after reconciling: every policy's level and properties. */
export function configureRequest(config: ReconciledConfig): analyzerProto.ConfigureAnalyzerRequest {
    const request = new analyzerProto.ConfigureAnalyzerRequest();
    for (const [name, { enforcementLevel, ...properties }] of Object.entries(config)) {
        const c = new analyzerProto.PolicyConfig();
        c.setEnforcementlevel(levelCodes[enforcementLevel]);
        c.setProperties(Struct.fromJavaScript(properties as Parameters<typeof Struct.fromJavaScript>[0]));
        request.getPolicyconfigMap().set(name, c);
    }
    return request;
}

function options(r: ResourceUnderTest): analyzerProto.AnalyzerResourceOptions {
    const o = optionsOf(r);
    const result = new analyzerProto.AnalyzerResourceOptions();
    result.setProtect(o.protect);
    result.setIgnorechangesList(o.ignoreChanges);
    result.setAliasesList(o.aliases);
    result.setAdditionalsecretoutputsList(o.additionalSecretOutputs);
    result.setCustomtimeouts(new analyzerProto.AnalyzerResourceOptions.CustomTimeouts());
    if (o.deleteBeforeReplace !== undefined) {
        result.setDeletebeforereplace(o.deleteBeforeReplace);
        result.setDeletebeforereplacedefined(true);
    }
    if (o.parent) {
        result.setParent(o.parent);
    }
    return result;
}

function properties(r: ResourceUnderTest): Struct {
    return Struct.fromJavaScript(toWire(r.props) as Parameters<typeof Struct.fromJavaScript>[0]);
}

export function analyzeRequest(r: ResourceUnderTest): analyzerProto.AnalyzeRequest {
    const request = new analyzerProto.AnalyzeRequest();
    request.setType(r.type);
    request.setName(r.name);
    request.setUrn(urnOf(r));
    request.setProperties(properties(r));
    request.setOptions(options(r));
    return request;
}

export function analyzeStackRequest(resources: readonly ResourceUnderTest[]): analyzerProto.AnalyzeStackRequest {
    const request = new analyzerProto.AnalyzeStackRequest();
    request.setResourcesList(
        resources.map((r) => {
            const resource = new analyzerProto.AnalyzerResource();
            resource.setType(r.type);
            resource.setName(r.name);
            resource.setUrn(urnOf(r));
            resource.setProperties(properties(r));
            resource.setOptions(options(r));
            resource.setParent(r.parent ?? "");
            resource.setDependenciesList([...(r.dependencies ?? [])]);
            for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
                const deps = new analyzerProto.AnalyzerPropertyDependencies();
                deps.setUrnsList([...urns]);
                resource.getPropertydependenciesMap().set(k, deps);
            }
            return resource;
        }),
    );
    return request;
}

/** The analyzer's response in the harness's terms, to compare both. */
export function fromResponse(response: analyzerProto.AnalyzeResponse): {
    diagnostics: Omit<Diagnostic, "severity">[];
    notApplicable: NotApplicable[];
} {
    return {
        diagnostics: response.getDiagnosticsList().map((d) => ({
            policyName: d.getPolicyname(),
            policyPackName: d.getPolicypackname(),
            policyPackVersion: d.getPolicypackversion(),
            description: d.getDescription(),
            message: d.getMessage(),
            enforcementLevel: levels[d.getEnforcementlevel()],
            urn: d.getUrn() || undefined,
        })),
        notApplicable: response
            .getNotApplicableList()
            .map((n) => ({ policyName: n.getPolicyName(), reason: n.getReason() || undefined })),
    };
}

/** Typed unary calls of the analyzer service. */
export function rpc(client: analyzerRpc.AnalyzerClient) {
    return {
        handshake: (r: analyzerProto.AnalyzerHandshakeRequest) =>
            call<analyzerProto.AnalyzerHandshakeRequest, analyzerProto.AnalyzerHandshakeResponse>(
                (q, cb) => client.handshake(q, cb),
                r,
            ),
        getAnalyzerInfo: () =>
            call<Empty, analyzerProto.AnalyzerInfo>((q, cb) => client.getAnalyzerInfo(q, cb), new Empty()),
        configure: (r: analyzerProto.ConfigureAnalyzerRequest) =>
            call<analyzerProto.ConfigureAnalyzerRequest, Empty>((q, cb) => client.configure(q, cb), r),
        analyze: (r: analyzerProto.AnalyzeRequest) =>
            call<analyzerProto.AnalyzeRequest, analyzerProto.AnalyzeResponse>((q, cb) => client.analyze(q, cb), r),
        analyzeStack: (r: analyzerProto.AnalyzeStackRequest) =>
            call<analyzerProto.AnalyzeStackRequest, analyzerProto.AnalyzeResponse>(
                (q, cb) => client.analyzeStack(q, cb),
                r,
            ),
    };
}

export { levels };
