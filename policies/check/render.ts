/**
 * The check's report as text for the terminal and as Markdown for the auditor's file.
 */
import type { EvidenceRow, EvidenceStatus } from "./evidence";
import type { CheckReport, Finding, StackReport } from "./run";

const statusLabel: Record<EvidenceStatus, string> = {
    met: "met",
    "not-met": "NOT MET",
    unknown: "unknown",
    "not-evidenced": "not evidenced",
};

const verdictLabel: Record<StackReport["verdict"], string> = {
    compliant: "COMPLIANT",
    "non-compliant": "NON-COMPLIANT",
    "not-evidenced": "NOT EVIDENCED",
    error: "ERROR",
};

/** A value as one short line (objects as compact JSON). */
export function showValue(value: unknown): string {
    if (value === undefined) return "not set";
    if (typeof value === "string") return value;
    return JSON.stringify(value);
}

function evidenceText(row: EvidenceRow): string {
    return row.evidence.map((e) => `${e.property} = ${showValue(e.value)}`).join("; ");
}

function resourceText(row: EvidenceRow | Finding): string {
    return row.resource ? `${row.resource.type} "${row.resource.name}"` : "(stack)";
}

function findingLines(title: string, findings: readonly Finding[]): string[] {
    if (findings.length === 0) return [`${title}: none`];
    return [
        `${title} (${findings.length}):`,
        ...findings.map((f) => `  ✗ [${f.rule}, ${f.clause}] ${resourceText(f)}: ${f.message}`),
    ];
}

function stackText(s: StackReport): string[] {
    const lines = [`== Stack ${s.stack} (${s.configFile}) ==`];
    if (s.error !== undefined) {
        return [...lines, `Error: ${s.error}`, `Verdict: ${verdictLabel[s.verdict]}: ${s.summary}`, ""];
    }
    for (const l of s.log) lines.push(`Program ${l.severity}: ${l.message}`);
    const custom = s.resources.filter((r) => r.custom);
    lines.push(`Resources (${custom.length}, plus ${s.resources.length - custom.length} components), by type:`);
    const types = [...new Set(custom.map((r) => r.type))].sort();
    if (types.length === 0) lines.push("  (none)");
    for (const type of types) {
        const names = custom.filter((r) => r.type === type).map((r) => `${r.name}${r.protect ? " [protected]" : ""}`);
        lines.push(`  ${type} (${names.length}): ${names.join(", ")}`);
    }
    lines.push(...findingLines("Violations", s.violations));
    if (s.advisories.length > 0) lines.push(...findingLines("Advisories", s.advisories));
    lines.push("Evidence (clause: requirement → rule, resource, property = value):");
    let last = "";
    for (const row of s.evidence) {
        const head = `${row.clause}: ${row.text} [expected ${showValue(row.expected)}]`;
        if (head !== last) {
            lines.push(`  ${head}`);
            last = head;
        }
        const detail =
            row.rule === null
                ? (row.note ?? "")
                : `${row.rule}, ${resourceText(row)}: ${evidenceText(row) || "(examined)"}`;
        lines.push(`    ${statusLabel[row.status].padEnd(13)} ${detail}`);
    }
    const c = s.evidenceCounts;
    lines.push(
        `Evidence rows: ${c.met} met, ${c["not-met"]} not met, ${c.unknown} unknown, ${c["not-evidenced"]} not evidenced.`,
    );
    lines.push(`Verdict: ${verdictLabel[s.verdict]}: ${s.summary}`, "");
    return lines;
}

export function renderText(report: CheckReport): string {
    const lines = [
        `${report.policy.document} v${report.policy.version}: offline compliance check`,
        `Policy pack ${report.pack.name} ${report.pack.version} (${report.pack.rules} mandatory rules), applied as \`pulumi preview --policy-pack policies\` would;`,
        "each stack's program runs with its Pulumi.<stack>.yaml under Pulumi mocks (no cloud credentials, no network).",
        ...(report.policyConfig ? [`Policy config: ${JSON.stringify(report.policyConfig)}`] : []),
        "",
    ];
    for (const s of report.stacks) lines.push(...stackText(s));
    lines.push("== Summary ==");
    for (const s of report.stacks) lines.push(`  ${s.stack}: ${verdictLabel[s.verdict]}: ${s.summary}`);
    lines.push(
        `Exit code ${report.exitCode} (0 no mandatory violation, 1 mandatory violation, 2 program or configuration error).`,
    );
    return lines.join("\n") + "\n";
}

function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function renderEvidenceMarkdown(report: CheckReport, generatedAt: Date = new Date()): string {
    const lines = [
        `# Evidence: ${report.policy.document} v${report.policy.version}`,
        "",
        `Generated ${generatedAt.toISOString()} by \`npm run check\` (policy pack ${report.pack.name} ${report.pack.version}, ${report.pack.rules} mandatory rules).`,
        "Each stack's Pulumi program ran with its `Pulumi.<stack>.yaml` under Pulumi mocks, and every rule of the policy pack",
        "was applied to what it registered exactly as `pulumi preview --policy-pack policies` applies it. A requirement is *met*",
        "only where a rule examined a resource; *not evidenced* means this check has no resource showing it (reason given).",
        ...(report.policyConfig ? ["", `Policy config used: \`${JSON.stringify(report.policyConfig)}\``] : []),
        "",
    ];
    for (const s of report.stacks) {
        lines.push(`## Stack \`${s.stack}\`: ${verdictLabel[s.verdict]}`, "", s.summary, "");
        if (s.error !== undefined) {
            lines.push(`Error: ${cell(s.error)}`, "");
            continue;
        }
        if (s.violations.length > 0) {
            lines.push("Violations:", "");
            for (const f of s.violations)
                lines.push(`- **${f.rule}** (${f.clause}), ${cell(resourceText(f))}: ${cell(f.message)}`);
            lines.push("");
        }
        lines.push(
            "| Clause | Requirement | Expected | Rule | Resource | Property = value | Status |",
            "|---|---|---|---|---|---|---|",
        );
        for (const row of s.evidence) {
            lines.push(
                `| ${cell(row.clause)} | ${cell(row.text)} | ${cell(showValue(row.expected))} | ${row.rule ?? ""} | ${row.resource ? cell(resourceText(row)) : ""} | ${cell(row.rule === null ? (row.note ?? "") : evidenceText(row))} | ${statusLabel[row.status]}${row.status === "not-met" && row.note ? `: ${cell(row.note)}` : ""} |`,
            );
        }
        lines.push("");
    }
    return lines.join("\n");
}
