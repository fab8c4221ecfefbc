/**
 * The offline compliance check of one or more stacks: run each stack's real program with its
 * Pulumi.<stack>.yaml under Pulumi's mocks (stacks/offline.ts: no credentials, no network), hand every
 * resource to the policy pack exactly as the Pulumi CLI would (Analyze with its inputs, AnalyzeStack
 * with all outputs, the config the CLI would send; policies/harness/analyze.ts), and report
 * resources, violations and the evidence table. The shape returned here is what `--json` writes
 * (documented in policies/README.md).
 */
import * as fs from "fs";
import * as path from "path";
import { backupPolicy } from "../../components/policy";
import {
    analyzeResource,
    analyzeStack,
    type Diagnostic,
    type Pack,
    type PolicyConfigInput,
    reconcileConfig,
    type ReconciledConfig,
    type ResourceUnderTest,
    secret,
    thePack,
} from "../harness/analyze";
import { clausesOf, requirementsEnforcedBy } from "../lib/rule";
import { type OfflineResource, type OfflineRun, projectRoot, runStackOffline } from "../../stacks/offline";
import { type EvidenceRow, type EvidenceStatus, evidenceTable, type ResourceRef } from "./evidence";
import { redactor } from "./redact";

export type Verdict = "compliant" | "non-compliant" | "not-evidenced" | "error";

export interface Finding {
    readonly rule: string;
    readonly clause: string;
    readonly enforcementLevel: string;
    /** The resource the finding is about; null for the stack as a whole. */
    readonly resource: ResourceRef | null;
    /** What is wrong, in the rule's words. */
    readonly message: string;
}

export interface StackReport {
    readonly stack: string;
    readonly configFile: string;
    readonly verdict: Verdict;
    /** One sentence saying what the verdict means for this stack. */
    readonly summary: string;
    readonly error?: string;
    /** Warnings and errors the program logged. */
    readonly log: readonly { readonly severity: string; readonly message: string }[];
    readonly resources: readonly (ResourceRef & { readonly custom: boolean; readonly protect: boolean })[];
    readonly resourceCounts: Readonly<Record<string, number>>;
    readonly violations: readonly Finding[];
    readonly advisories: readonly Finding[];
    /** Stack rules that did not apply to this stack, and why. */
    readonly notApplicable: readonly { readonly rule: string; readonly reason: string }[];
    readonly evidence: readonly EvidenceRow[];
    readonly evidenceCounts: Readonly<Record<EvidenceStatus, number>>;
}

export interface CheckReport {
    readonly tool: "backup-policy-check";
    readonly policy: { readonly document: string; readonly version: string };
    readonly pack: { readonly name: string; readonly version: string; readonly rules: number };
    /** Policy config given with --policy-config (null: the policy module's values). */
    readonly policyConfig: PolicyConfigInput | null;
    /** 0 compliant, 1 mandatory violation, 2 program/configuration error. */
    readonly exitCode: 0 | 1 | 2;
    readonly stacks: readonly StackReport[];
}

export interface CheckOptions {
    /** Stacks to check; default: every Pulumi.<stack>.yaml of the project. */
    readonly stacks?: readonly string[];
    /** Directory of Pulumi.yaml and the stack files; default: this repository. */
    readonly projectDir?: string;
    /** Policy config as for `pulumi preview --policy-pack-config`. */
    readonly policyConfig?: PolicyConfigInput;
    /** The Pulumi program; default: this project's (stacks/program.ts). */
    readonly program?: () => unknown;
}

export class UsageError extends Error {}

/** The stacks of a project: one per Pulumi.<stack>.yaml next to Pulumi.yaml. */
export function stackNames(projectDir: string = projectRoot()): string[] {
    return fs
        .readdirSync(projectDir)
        .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

function ref(r: { type: string; name: string; urn: string }): ResourceRef {
    return { type: r.type, name: r.name, urn: r.urn };
}

/** A registered resource as the engine hands it to the analyzer: inputs for Analyze, outputs for AnalyzeStack. */
function underTest(r: OfflineResource, which: "inputs" | "outputs"): ResourceUnderTest {
    const values = r[which];
    const secrets = which === "inputs" ? r.secretInputs : r.secretOutputs;
    const props = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, secrets.includes(k) ? secret(v) : v]));
    return {
        type: r.type,
        name: r.name,
        urn: r.urn,
        props,
        protect: r.options.protect,
        parent: r.options.parent,
        ignoreChanges: r.options.ignoreChanges,
        additionalSecretOutputs: r.options.additionalSecretOutputs,
        ...(r.options.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
        dependencies: r.options.dependsOn,
    };
}

function clauseOf(rule: string): string {
    return clausesOf(requirementsEnforcedBy(rule));
}

/** The rule's own message: the runtime prefixes it with the rule's description and a newline. */
function ownMessage(d: Diagnostic): string {
    const newline = d.message.indexOf("\n");
    return newline >= 0 && d.message.startsWith(d.description) ? d.message.slice(newline + 1) : d.message;
}

function finding(d: Diagnostic, resource: ResourceRef | null): Finding {
    return {
        rule: d.policyName,
        clause: clauseOf(d.policyName),
        enforcementLevel: d.enforcementLevel,
        resource,
        message: ownMessage(d),
    };
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
    return counts;
}

function emptyReport(
    stack: string,
    configFile: string,
    verdict: Verdict,
    summary: string,
    error?: string,
): StackReport {
    return {
        stack,
        configFile,
        verdict,
        summary,
        ...(error !== undefined ? { error } : {}),
        log: [],
        resources: [],
        resourceCounts: {},
        violations: [],
        advisories: [],
        notApplicable: [],
        evidence: [],
        evidenceCounts: { met: 0, "not-met": 0, unknown: 0, "not-evidenced": 0 },
    };
}

/** A rule's examination of one resource, as it is collected (the mutable form of Examination). */
interface OpenExamination {
    rule: string;
    resource: ResourceRef;
    evidence: { property: string; value: unknown }[];
    violations: string[];
    unknown: boolean;
}

/** What the rules saw while they ran on one stack: findings and examinations by rule and resource. */
class Observations {
    readonly findings: Finding[] = [];
    private readonly examinations = new Map<string, OpenExamination>();
    private readonly byUrn: Map<string, OfflineResource>;

    constructor(run: OfflineRun) {
        this.byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    }

    resource(urn: string): OfflineResource | undefined {
        return this.byUrn.get(urn);
    }

    examination(rule: string, resource: ResourceRef): OpenExamination {
        const key = `${rule}\u0000${resource.urn}`;
        let e = this.examinations.get(key);
        if (!e) {
            e = { rule, resource, evidence: [], violations: [], unknown: false };
            this.examinations.set(key, e);
        }
        return e;
    }

    all(): OpenExamination[] {
        return [...this.examinations.values()];
    }

    /** Records a property a rule read, hiding secret values. */
    observe(rule: string, r: OfflineResource, property: string, value: unknown): void {
        const top = property.split(".")[0];
        const isSecret = r.secretInputs.includes(top) || r.secretOutputs.includes(top);
        this.examination(rule, ref(r)).evidence.push({ property, value: isSecret ? "[secret]" : value });
    }
}

/** Analyze: every resource with its inputs, as it is registered. */
async function analyzeResources(pack: Pack, config: ReconciledConfig, run: OfflineRun, seen: Observations) {
    for (const r of run.resources) {
        const result = await analyzeResource(pack, underTest(r, "inputs"), { config });
        for (const o of result.observations) seen.observe(o.policyName, r, o.property, o.value);
        for (const d of result.diagnostics) {
            seen.findings.push(finding(d, ref(r)));
            const e = seen.examination(d.policyName, ref(r));
            if (d.enforcementLevel === "mandatory") e.violations.push(ownMessage(d));
            else if (d.message.startsWith("can't run policy")) e.unknown = true;
        }
        // A rule that ran on the resource examined it, also when it read nothing (e.g. options.protect).
        for (const name of result.evaluated) seen.examination(name, ref(r));
    }
}

/** AnalyzeStack: all resources with their outputs. Returns the rules that found nothing to apply to. */
async function analyzeWholeStack(
    pack: Pack,
    config: ReconciledConfig,
    run: OfflineRun,
    seen: Observations,
): Promise<StackReport["notApplicable"]> {
    const stackResult = await analyzeStack(
        pack,
        run.resources.map((r) => underTest(r, "outputs")),
        { config },
    );
    for (const o of stackResult.observations) {
        const r = seen.resource(o.urn);
        if (r) seen.observe(o.policyName, r, o.property, o.value);
    }
    for (const d of stackResult.diagnostics) {
        const r = d.urn ? seen.resource(d.urn) : undefined;
        seen.findings.push(finding(d, r ? ref(r) : null));
        if (r && d.enforcementLevel === "mandatory") {
            // A violation on a linked resource (e.g. a protected item) counts against the examined one.
            const examined = seen.all().filter((e) => e.rule === d.policyName && e.resource.urn === r.urn);
            (examined.length > 0 ? examined : [seen.examination(d.policyName, ref(r))]).forEach((e) =>
                e.violations.push(ownMessage(d)),
            );
        }
    }
    return stackResult.notApplicable.map((n) => ({ rule: n.policyName, reason: n.reason ?? "not applicable" }));
}

/** The stack's verdict and its one-line summary. */
function verdictOf(
    violations: readonly Finding[],
    run: OfflineRun,
    evidence: readonly EvidenceRow[],
): { verdict: Verdict; summary: string } {
    const custom = run.resources.filter((r) => r.custom);
    const requirements = new Set(evidence.map((e) => e.requirement));
    const notEvidenced = new Set(evidence.filter((e) => e.status === "not-evidenced").map((e) => e.requirement));
    const verdict: Verdict =
        violations.length > 0 ? "non-compliant" : custom.length === 0 ? "not-evidenced" : "compliant";
    const summary =
        verdict === "non-compliant"
            ? `${violations.length} mandatory violation(s): \`pulumi preview --policy-pack policies\` would block this stack.`
            : verdict === "not-evidenced"
              ? `The stack registers no resources, so nothing of the policy is evidenced here (not a compliance statement).`
              : `No mandatory violation; ${requirements.size - notEvidenced.size} of ${requirements.size} requirements evidenced by resources, ${notEvidenced.size} not evidenced (see the evidence table).`;
    return { verdict, summary };
}

/** Applies the pack to an offline run, as the CLI would during `pulumi preview` with `--policy-pack`. */
export async function analyzeRun(
    pack: Pack,
    config: ReconciledConfig,
    run: OfflineRun,
    configFile: string,
): Promise<StackReport> {
    const seen = new Observations(run);
    await analyzeResources(pack, config, run, seen);
    const notApplicable = await analyzeWholeStack(pack, config, run, seen);
    const evidence = evidenceTable(
        pack,
        seen.all(),
        new Map(notApplicable.map((n) => [n.rule, `${n.rule}: ${n.reason}`])),
    );
    const evidenceCounts = { met: 0, "not-met": 0, unknown: 0, "not-evidenced": 0 } as Record<EvidenceStatus, number>;
    for (const row of evidence) evidenceCounts[row.status]++;
    const violations = seen.findings.filter((f) => f.enforcementLevel === "mandatory");
    return {
        stack: run.stack,
        configFile,
        ...verdictOf(violations, run, evidence),
        log: run.log.filter((l) => l.severity === "warning" || l.severity === "error"),
        resources: run.resources.map((r) => ({ ...ref(r), custom: r.custom, protect: r.options.protect })),
        resourceCounts: countBy(run.resources, (r) => r.type),
        violations,
        advisories: seen.findings.filter((f) => f.enforcementLevel !== "mandatory"),
        notApplicable,
        evidence,
        evidenceCounts,
    };
}

/** One stack's report; a program, configuration or rule error becomes the verdict "error". */
async function checkStack(
    pack: Pack,
    config: ReconciledConfig,
    stack: string,
    projectDir: string,
    program: CheckOptions["program"],
): Promise<StackReport> {
    const configFile =
        path.relative(process.cwd(), path.join(projectDir, `Pulumi.${stack}.yaml`)) || `Pulumi.${stack}.yaml`;
    let run: OfflineRun;
    try {
        run = await runStackOffline({ stack, projectDir, program });
    } catch (e) {
        return emptyReport(stack, configFile, "error", "The stack could not be run.", (e as Error).message);
    }
    const redact = redactor(run);
    if (run.error) {
        return redact(
            emptyReport(
                stack,
                configFile,
                "error",
                "The program stopped before registering its resources; nothing was checked.",
                run.error.message,
            ),
        );
    }
    try {
        return redact(await analyzeRun(pack, config, run, configFile));
    } catch (e) {
        return redact(
            emptyReport(stack, configFile, "error", "A rule of the policy pack failed.", (e as Error).message),
        );
    }
}

/** Checks the stacks; never throws for a stack's program or configuration error (verdict "error"). */
export async function check(options: CheckOptions = {}): Promise<CheckReport> {
    const projectDir = options.projectDir ?? projectRoot();
    const available = stackNames(projectDir);
    const stacks = options.stacks && options.stacks.length > 0 ? options.stacks : available;
    const unknownStacks = stacks.filter((s) => !available.includes(s));
    if (unknownStacks.length > 0) {
        throw new UsageError(
            `no stack file ${unknownStacks.map((s) => `Pulumi.${s}.yaml`).join(", ")} in ${projectDir}; stacks: ${available.join(", ") || "none"}`,
        );
    }
    const pack = thePack();
    const config = reconcileConfig(pack, options.policyConfig); // throws PolicyConfigError
    const reports: StackReport[] = [];
    for (const stack of stacks) reports.push(await checkStack(pack, config, stack, projectDir, options.program));
    const exitCode = reports.some((r) => r.verdict === "error")
        ? 2
        : reports.some((r) => r.verdict === "non-compliant")
          ? 1
          : 0;
    return {
        tool: "backup-policy-check",
        policy: { document: "IT Manufactory GmbH Data Backup Policy", version: backupPolicy.version.value },
        pack: { name: pack.name, version: pack.version, rules: pack.policies.length },
        policyConfig: options.policyConfig ?? null,
        exitCode,
        stacks: reports,
    };
}
