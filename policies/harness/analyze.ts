/**
 * Runs the pack's rules in-process exactly as the @pulumi/policy 1.21 runtime (server.js) does when
 * the Pulumi CLI calls Analyze / AnalyzeStack: the same property round trip (engine wire format →
 * protobuf Struct → @pulumi/policy's deserializeProperties → unknownCheckingProxy), the same argument
 * objects (type checks, asType, options, getConfig, notApplicable), the same enforcement levels, the
 * same violation messages ("<description>\n<message>"), unknown values turned into an advisory
 * "can't run policy ... during preview" diagnostic, and the same config the CLI hands the pack
 * (schema defaults, then the given policy config, validated against the schema).
 *
 * Used by the tests (test/policies) and by the offline check (`npm run check`): one implementation
 * of each rule, and one of "how the CLI calls it". test/policies/cli-protocol.test.ts checks that this
 * module and the real runtime, started the way the CLI starts it, return the same diagnostics.
 *
 * The only addition: a recorder under the `observationRecorder` symbol on the arguments, through which
 * rules report which property and value they looked at (the CLI's runtime has none; rules then skip it).
 */
import * as fs from "fs";
import * as path from "path";
import * as policyRuntime from "@pulumi/policy";
import type {
    EnforcementLevel,
    Policies,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { type Observation, observationRecorder } from "../lib/read";
import { packArgs, packName } from "../pack";
import type { ReconciledConfig } from "./policyConfig";

export { PolicyConfigError, reconcileConfig } from "./policyConfig";
export type { PolicyConfigInput, ReconciledConfig } from "./policyConfig";

/**
 * The @pulumi/policy release whose runtime (server.js, deserialize.js, the unknown-checking proxy)
 * this module follows. package.json pins exactly this version; test/policies/policyConfig.test.ts
 * fails when the installed or pinned version differs, so a new release gets compared before it is used.
 */
export const copiedFromPolicyVersion = "1.21.0";

// ---------------------------------------------------------------------------------------------
// The runtime's own building blocks (exported by @pulumi/policy at runtime; typed here).
// ---------------------------------------------------------------------------------------------

const runtime = policyRuntime as unknown as {
    unknownCheckingProxy<T extends object>(value: T): T;
    UnknownValueError: new (...args: never[]) => Error;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const deserialize = require("@pulumi/policy/deserialize") as {
    deserializeProperties(
        struct: { toJavaScript(): Record<string, unknown> },
        proxySecrets: boolean,
    ): Record<string, unknown>;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const wire = require("@pulumi/pulumi/runtime/rpc") as {
    specialSigKey: string;
    specialSecretSig: string;
    unknownValue: string;
};

/** The error class `UnknownValueError` the runtime's proxy throws for values unknown during preview. */
export const UnknownValueError = runtime.UnknownValueError;

// ---------------------------------------------------------------------------------------------
// Resources as a test or the offline check describes them.
// ---------------------------------------------------------------------------------------------

/** Marks a property value the engine does not know yet (preview of a computed value). */
export const unknown: unique symbol = Symbol("unknown during preview");
/** Marks a property value as a Pulumi secret (the engine sends it wrapped; the runtime unwraps it). */
export class SecretValue {
    constructor(public readonly value: unknown) {}
}
export function secret(value: unknown): SecretValue {
    return new SecretValue(value);
}

export interface ResourceUnderTest {
    readonly type: string;
    readonly name: string;
    /** Defaults to a URN in stack "test" of project "backup-policy". */
    readonly urn?: string;
    /** Inputs (Analyze) or outputs (AnalyzeStack); may contain `unknown` and `secret(...)`. */
    readonly props: Record<string, unknown>;
    readonly protect?: boolean;
    readonly parent?: string;
    readonly ignoreChanges?: readonly string[];
    readonly aliases?: readonly string[];
    readonly additionalSecretOutputs?: readonly string[];
    readonly deleteBeforeReplace?: boolean;
    /** URNs this resource depends on (AnalyzeStack only). */
    readonly dependencies?: readonly string[];
    /** Property → URNs it was computed from (AnalyzeStack only). */
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    readonly provider?: {
        readonly type: string;
        readonly name: string;
        readonly urn: string;
        readonly props: Record<string, unknown>;
    };
}

export function urnOf(resource: Pick<ResourceUnderTest, "type" | "name" | "urn" | "parent">): string {
    return resource.urn ?? `urn:pulumi:test::backup-policy::${resource.type}::${resource.name}`;
}

/** Engine wire format (what the CLI marshals with KeepUnknowns + KeepSecrets); undefined is dropped. */
export function toWire(value: unknown): unknown {
    if (value === unknown) {
        return wire.unknownValue;
    }
    if (value instanceof SecretValue) {
        return { [wire.specialSigKey]: wire.specialSecretSig, value: toWire(value.value) ?? null };
    }
    if (Array.isArray(value)) {
        return value.map((v) => toWire(v) ?? null);
    }
    if (value !== null && typeof value === "object") {
        const result: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            const w = toWire(v);
            if (w !== undefined) {
                result[k] = w;
            }
        }
        return result;
    }
    return value;
}

/** Properties exactly as the runtime hands them to a rule: deserialized, secrets unwrapped, unknown-checked. */
export function runtimeProps(props: Record<string, unknown>): Record<string, unknown> {
    const struct = Struct.fromJavaScript(toWire(props) as Parameters<typeof Struct.fromJavaScript>[0]);
    return runtime.unknownCheckingProxy(deserialize.deserializeProperties(struct, false));
}

export function optionsOf(r: ResourceUnderTest): PolicyResourceOptions {
    const opts: PolicyResourceOptions = {
        protect: r.protect ?? false,
        ignoreChanges: [...(r.ignoreChanges ?? [])],
        aliases: [...(r.aliases ?? [])],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [...(r.additionalSecretOutputs ?? [])],
    };
    if (r.deleteBeforeReplace !== undefined) {
        opts.deleteBeforeReplace = r.deleteBeforeReplace;
    }
    if (r.parent) {
        opts.parent = r.parent;
    }
    return opts;
}

// ---------------------------------------------------------------------------------------------
// The pack and its config, as the CLI reconciles it before calling Configure.
// ---------------------------------------------------------------------------------------------

export interface Pack {
    readonly name: string;
    readonly version: string;
    readonly enforcementLevel: EnforcementLevel;
    readonly policies: Policies;
}

/** This repository's pack: name from pack.ts, version from policies/package.json (as PolicyPack reads it). */
export function thePack(): Pack {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string };
    return {
        name: packName,
        version: pkg.version,
        enforcementLevel: packArgs.enforcementLevel ?? "advisory",
        policies: packArgs.policies,
    };
}

// ---------------------------------------------------------------------------------------------
// Analyze and AnalyzeStack, step for step as server.js.
// ---------------------------------------------------------------------------------------------

export interface Diagnostic {
    readonly policyName: string;
    readonly policyPackName: string;
    readonly policyPackVersion: string;
    readonly description: string;
    readonly message: string;
    readonly enforcementLevel: EnforcementLevel;
    readonly urn?: string;
    readonly severity?: Severity;
}

export interface NotApplicable {
    readonly policyName: string;
    readonly reason?: string;
}

export interface AnalyzeResult {
    readonly diagnostics: Diagnostic[];
    readonly notApplicable: NotApplicable[];
    /** What each rule looked at (only the offline check and tests see these). */
    readonly observations: (Observation & { readonly policyName: string })[];
    /** Policies that ran to the end on this request (not skipped, not disabled, not "not applicable"). */
    readonly evaluated: string[];
}

export interface AnalyzeOptions {
    /** Config as returned by `reconcileConfig`; without it, like a runtime that was never configured. */
    readonly config?: ReconciledConfig;
    readonly stackTags?: ReadonlyMap<string, string>;
}

class NotApplicableError extends Error {
    constructor(public readonly reason?: string) {
        super(reason ?? "Policy does not apply");
    }
}

function throwNotApplicable(reason?: string): never {
    throw new NotApplicableError(reason);
}

function pulumiTypeOf(value: unknown): string | undefined {
    const t = (value as { __pulumiType?: unknown } | undefined)?.__pulumiType;
    return typeof t === "string" && t.length > 0 ? t : undefined;
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
    const t = pulumiTypeOf(resourceClass);
    if (t) {
        return type === t;
    }
    const isInstance = (resourceClass as { isInstance?: unknown }).isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function isResourcePolicy(p: Policies[number]): p is ResourceValidationPolicy {
    const v = (p as ResourceValidationPolicy).validateResource;
    if (typeof v === "function") return true;
    if (Array.isArray(v)) return v.every((f) => typeof f === "function");
    return typeof (p as ResourceValidationPolicy).remediateResource === "function";
}

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
    return typeof (p as StackValidationPolicy).validateStack === "function";
}

/** The level a policy runs at; like the runtime, `remediate` reports as `mandatory` during analysis. */
function levelOf(pack: Pack, p: Policies[number], config: ReconciledConfig | undefined): EnforcementLevel {
    const level = config?.[p.name]?.enforcementLevel || p.enforcementLevel || pack.enforcementLevel;
    return level === "remediate" ? "mandatory" : level;
}

/** A resource as the runtime shows it to a rule: props after the runtime's round trip, type checks, options, provider. */
function policyView(
    r: ResourceUnderTest,
): Pick<PolicyResource, "type" | "props" | "urn" | "name" | "opts" | "isType" | "asType" | "provider"> {
    const props = runtimeProps(r.props);
    return {
        type: r.type,
        props,
        urn: urnOf(r),
        name: r.name,
        opts: optionsOf(r),
        isType: (resourceClass) => isTypeOf(r.type, resourceClass),
        asType: ((resourceClass: unknown) =>
            isTypeOf(r.type, resourceClass) ? props : undefined) as PolicyResource["asType"],
        ...(r.provider ? { provider: { ...r.provider, props: runtimeProps(r.provider.props) } } : {}),
    };
}

/**
 * What the runtime does with an exception from a rule: an unknown value becomes an advisory
 * diagnostic, `notApplicable` is recorded, anything else fails the whole request.
 */
function handleRuleException(
    e: unknown,
    pack: Pack,
    p: Policies[number],
    what: "resource" | "stack",
    diagnostics: Diagnostic[],
    notApplicable: NotApplicable[],
): void {
    if (e instanceof UnknownValueError) {
        diagnostics.push(unknownDiagnostic(pack, p, e));
    } else if (e instanceof NotApplicableError) {
        notApplicable.push({ policyName: p.name, reason: e.reason });
    } else {
        throw new Error(
            `Error validating ${what} with policy '${p.name}' from policy pack '${pack.name}@v${pack.version}':\n${(e as Error).stack ?? String(e)}`,
        );
    }
}

function getConfigFor(policyName: string, config: ReconciledConfig | undefined) {
    return <T extends object>(): T => {
        const c = config?.[policyName];
        if (!c) {
            return {} as T;
        }
        const { enforcementLevel: _level, ...properties } = c;
        return properties as T;
    };
}

function reportViolationFor(
    pack: Pack,
    p: Policies[number],
    level: EnforcementLevel,
    ds: Diagnostic[],
): ReportViolation {
    return (message: string, urn?: string) => {
        ds.push({
            policyName: p.name,
            policyPackName: pack.name,
            policyPackVersion: pack.version,
            message: message ? `${p.description}\n${message}` : p.description,
            urn,
            description: p.description,
            enforcementLevel: level,
            severity: p.severity,
        });
    };
}

function unknownDiagnostic(pack: Pack, p: Policies[number], e: Error): Diagnostic {
    return {
        policyName: p.name,
        policyPackName: pack.name,
        policyPackVersion: pack.version,
        message: `can't run policy '${p.name}' from policy pack '${pack.name}@v${pack.version}' during preview: ${e.message}`,
        description: p.description,
        enforcementLevel: "advisory",
        severity: p.severity,
    };
}

function withRecorder<T extends object>(args: T, policyName: string, observations: AnalyzeResult["observations"]): T {
    Object.defineProperty(args, observationRecorder, {
        enumerable: false,
        value: (o: Observation) => observations.push({ ...o, policyName }),
    });
    return args;
}

/** What the runtime does for one Analyze request (a resource's inputs, before it is created or updated). */
export async function analyzeResource(
    pack: Pack,
    resource: ResourceUnderTest,
    options: AnalyzeOptions = {},
): Promise<AnalyzeResult> {
    const diagnostics: Diagnostic[] = [];
    const notApplicable: NotApplicable[] = [];
    const observations: AnalyzeResult["observations"] = [];
    const evaluated: string[] = [];
    for (const p of pack.policies) {
        const level = levelOf(pack, p, options.config);
        if (level === "disabled" || !isResourcePolicy(p)) {
            continue;
        }
        if (!p.validateResource) {
            notApplicable.push({ policyName: p.name, reason: "Policy does not implement validateResource" });
            continue;
        }
        if (!Array.isArray(p.validateResource)) {
            const t = pulumiTypeOf(p.validateResource);
            if (t && resource.type !== t) {
                notApplicable.push({ policyName: p.name, reason: `Policy only applies to resources of type '${t}'` });
                continue;
            }
        }
        const report = reportViolationFor(pack, p, level, diagnostics);
        const validations: ResourceValidation[] = Array.isArray(p.validateResource)
            ? p.validateResource
            : [p.validateResource];
        for (const validation of validations) {
            try {
                const view = policyView(resource);
                const args: ResourceValidationArgs = {
                    ...view,
                    // The same function; @pulumi/policy types it differently for resource rules.
                    asType: view.asType as unknown as ResourceValidationArgs["asType"],
                    stackTags: options.stackTags ?? new Map(),
                    getConfig: getConfigFor(p.name, options.config),
                    notApplicable: throwNotApplicable,
                };
                await Promise.resolve(validation(withRecorder(args, p.name, observations), report));
                evaluated.push(p.name);
            } catch (e) {
                handleRuleException(e, pack, p, "resource", diagnostics, notApplicable);
            }
        }
    }
    return { diagnostics, notApplicable, observations, evaluated: [...new Set(evaluated)] };
}

/** What the runtime does for one AnalyzeStack request (all resources with their outputs, after preview/update). */
export async function analyzeStack(
    pack: Pack,
    resources: readonly ResourceUnderTest[],
    options: AnalyzeOptions = {},
): Promise<AnalyzeResult> {
    const diagnostics: Diagnostic[] = [];
    const notApplicable: NotApplicable[] = [];
    const observations: AnalyzeResult["observations"] = [];
    const evaluated: string[] = [];
    for (const p of pack.policies) {
        const level = levelOf(pack, p, options.config);
        if (level === "disabled" || !isStackPolicy(p)) {
            continue;
        }
        const t = pulumiTypeOf(p.validateStack);
        if (t && !resources.some((r) => r.type === t)) {
            notApplicable.push({ policyName: p.name, reason: `Policy only applies to resources of type '${t}'` });
            continue;
        }
        const report = reportViolationFor(pack, p, level, diagnostics);
        try {
            const intermediates = resources.map((r) => {
                const resource: PolicyResource = { ...policyView(r), dependencies: [], propertyDependencies: {} };
                return { resource, source: r };
            });
            const byUrn = new Map(intermediates.map((i) => [i.resource.urn, i.resource]));
            for (const { resource, source } of intermediates) {
                const parent = source.parent ? byUrn.get(source.parent) : undefined;
                if (parent) {
                    resource.parent = parent;
                }
                resource.dependencies = (source.dependencies ?? []).flatMap((d) => byUrn.get(d) ?? []);
                for (const [k, urns] of Object.entries(source.propertyDependencies ?? {})) {
                    resource.propertyDependencies[k] = urns.flatMap((d) => byUrn.get(d) ?? []);
                }
            }
            const args: StackValidationArgs = {
                resources: intermediates.map((i) => i.resource),
                getConfig: getConfigFor(p.name, options.config),
                stackTags: options.stackTags ?? new Map(),
                notApplicable: throwNotApplicable,
            };
            await Promise.resolve(p.validateStack(withRecorder(args, p.name, observations), report));
            evaluated.push(p.name);
        } catch (e) {
            handleRuleException(e, pack, p, "stack", diagnostics, notApplicable);
        }
    }
    return { diagnostics, notApplicable, observations, evaluated };
}
