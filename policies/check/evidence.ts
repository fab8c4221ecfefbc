/**
 * The evidence table: every requirement of the Data Backup Policy (components/policy.ts) mapped to the
 * rules of the pack that enforce it, and for each rule to the resources it examined, the properties
 * and values it read, and whether the requirement was met. A requirement no rule could examine in a
 * stack is listed as "not evidenced" with the reason; nothing is reported as met without a resource.
 */
import { backupPolicy, type Requirement } from "../../components/policy";
import type { Pack } from "../harness/analyze";
import { requirementsEnforcedBy } from "../lib/rule";

export type EvidenceStatus = "met" | "not-met" | "unknown" | "not-evidenced";

export interface ResourceRef {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
}

export interface EvidenceRow {
    /** Where the requirement lives in components/policy.ts, e.g. "database.retentionDays". */
    readonly requirement: string;
    readonly clause: string;
    /** The policy's words. */
    readonly text: string;
    /** The value the policy states. */
    readonly expected: unknown;
    readonly status: EvidenceStatus;
    /** The rule that examined the resource (null: no rule could). */
    readonly rule: string | null;
    readonly resource: ResourceRef | null;
    /** What the rule read on the resource. */
    readonly evidence: readonly { readonly property: string; readonly value: unknown }[];
    /** Why nothing is evidenced, or what went wrong. */
    readonly note?: string;
}

/** One rule's examination of one resource. */
export interface Examination {
    readonly rule: string;
    readonly resource: ResourceRef;
    readonly evidence: readonly { readonly property: string; readonly value: unknown }[];
    readonly violations: readonly string[];
    readonly unknown: boolean;
}

/** Every requirement of the policy module (the document version excluded), with its key path. */
export function policyRequirements(): { key: string; requirement: Requirement<unknown> }[] {
    const found: { key: string; requirement: Requirement<unknown> }[] = [];
    const walk = (value: unknown, key: string) => {
        if (value === null || typeof value !== "object") return;
        const record = value as Record<string, unknown>;
        if ("value" in record && "clause" in record && "text" in record) {
            found.push({ key, requirement: value as Requirement<unknown> });
            return;
        }
        for (const [k, v] of Object.entries(record)) walk(v, key ? `${key}.${k}` : k);
    };
    walk(backupPolicy, "");
    return found.filter((f) => f.requirement !== backupPolicy.version);
}

/**
 * Builds the rows. `examinations`: what each rule did per resource; `notApplicable`: per rule, why a
 * stack rule did not apply to this stack.
 */
export function evidenceTable(
    pack: Pack,
    examinations: readonly Examination[],
    notApplicable: ReadonlyMap<string, string>,
): EvidenceRow[] {
    const rows: EvidenceRow[] = [];
    for (const { key, requirement } of policyRequirements()) {
        const base = {
            requirement: key,
            clause: requirement.clause,
            text: requirement.text,
            expected: requirement.value,
        };
        const rules = pack.policies
            .filter((p) => requirementsEnforcedBy(p.name).includes(requirement))
            .map((p) => p.name);
        const examined = examinations.filter((e) => rules.includes(e.rule));
        for (const e of examined) {
            rows.push({
                ...base,
                status: e.violations.length > 0 ? "not-met" : e.unknown ? "unknown" : "met",
                rule: e.rule,
                resource: e.resource,
                evidence: e.evidence,
                ...(e.violations.length > 0
                    ? { note: e.violations.join(" ") }
                    : e.unknown
                      ? { note: "value unknown until deployment" }
                      : {}),
            });
        }
        if (examined.length === 0) {
            const reasons = rules.map(
                (r) => notApplicable.get(r) ?? `${r}: no resource in this stack that the rule applies to`,
            );
            rows.push({
                ...base,
                status: "not-evidenced",
                rule: null,
                resource: null,
                evidence: [],
                note:
                    rules.length === 0
                        ? "No rule of the policy pack checks this requirement."
                        : [...new Set(reasons)].join(" "),
            });
        }
    }
    return rows;
}
