/**
 * Test helper: runs the pack's rules with the arguments the policy runtime builds (policies/harness,
 * the same code the offline check uses), with the config the CLI would send.
 */
import {
    type AnalyzeResult,
    analyzeResource,
    analyzeStack,
    type PolicyConfigInput,
    reconcileConfig,
    type ResourceUnderTest,
    thePack,
} from "../../policies/harness/analyze";

export const pack = thePack();
export const ruleNames = pack.policies.map((p) => p.name);

export function resourceRule(name: string): boolean {
    const p = pack.policies.find((r) => r.name === name);
    return p !== undefined && "validateResource" in p;
}

export function checkResource(resource: ResourceUnderTest, config?: PolicyConfigInput): Promise<AnalyzeResult> {
    return analyzeResource(pack, resource, { config: reconcileConfig(pack, config) });
}

export function checkStack(
    resources: readonly ResourceUnderTest[],
    config?: PolicyConfigInput,
): Promise<AnalyzeResult> {
    return analyzeStack(pack, resources, { config: reconcileConfig(pack, config) });
}

/** The mandatory violation messages a rule reported (without the description line the runtime prepends). */
export function violations(result: AnalyzeResult, rule: string): string[] {
    return result.diagnostics
        .filter((d) => d.policyName === rule && d.enforcementLevel === "mandatory")
        .map((d) => d.message.slice(d.message.indexOf("\n") + 1));
}

/** Why a rule said it does not apply, if it did. */
export function notApplicableReason(result: AnalyzeResult, rule: string): string | undefined {
    return result.notApplicable.find((n) => n.policyName === rule)?.reason;
}

export function applied(result: AnalyzeResult, rule: string): boolean {
    return !result.notApplicable.some((n) => n.policyName === rule);
}
