/**
 * Every rule of the pack, both ways: a compliant resource (or stack) passes, and each non-compliant
 * change fails with the rule's message. The last test makes sure no rule of the pack is missing here.
 */
import { describe, expect, it } from "vitest";
import { noNasBackupYet } from "../../policies/rules/nasBackup";
import {
    appsJob,
    cases,
    containerAppsJobCases,
    cronJob,
    type Input,
    previewOfStack,
    stack,
    stackWithContainerAppsJobs,
    stackWithNas,
} from "./cases";
import {
    digitalOceanCluster,
    fileShare,
    protectedItem,
    protectionPolicy,
    server,
    snapshotTierProtectionPolicy,
    types,
    withProp,
} from "./fixtures";
import { applied, checkResource, checkStack, resourceRule, ruleNames, violations } from "./helpers";

async function run(rule: string, input: Input) {
    if (resourceRule(rule)) {
        if (Array.isArray(input)) throw new Error(`${rule} is a resource rule: give it one resource`);
        return checkResource(input);
    }
    return checkStack(Array.isArray(input) ? input : [input]);
}

describe.each([
    ...Object.entries(cases),
    ...Object.entries(containerAppsJobCases).map(([rule, c]) => [`${rule} (Container Apps Job)`, c] as const),
])("%s", (title, { compliant, nonCompliant }) => {
    const rule = title.replace(" (Container Apps Job)", "");
    it("passes a compliant resource", async () => {
        const result = await run(rule, compliant);
        expect(applied(result, rule)).toBe(true);
        expect(violations(result, rule)).toEqual([]);
    });
    it.each(nonCompliant.map((c) => [c.title, c] as const))("fails: %s", async (_title, { input, message }) => {
        const result = await run(rule, input);
        const found = violations(result, rule);
        expect(found.length).toBeGreaterThan(0);
        expect(
            found.some((m) => (typeof message === "string" ? m.includes(message) : message.test(m))),
            found.join("\n"),
        ).toBe(true);
    });
});

describe("the pack", () => {
    it("has every rule tested both ways in this file", () => {
        expect(Object.keys(cases).sort()).toEqual([...ruleNames].sort());
        for (const c of Object.values(cases)) {
            expect(c.nonCompliant.length).toBeGreaterThan(0);
        }
    });

    it("finds the compliant prod-like stack compliant with every rule, resource by resource and as a stack", async () => {
        for (const r of stackWithNas) {
            expect((await checkResource(r)).diagnostics, r.name).toEqual([]);
        }
        expect((await checkStack(stackWithNas)).diagnostics).toEqual([]);
    });

    it("does not claim NAS coverage for a stack without NAS backup jobs", async () => {
        const result = await checkStack(stack);
        expect(violations(result, "nas-backup-coverage")).toEqual([]);
        expect(result.notApplicable).toContainEqual({ policyName: "nas-backup-coverage", reason: noNasBackupYet });
        expect(result.observations.filter((o) => o.policyName === "nas-backup-coverage")).toEqual([]);
    });

    it("leaves CronJobs that are not NAS backups alone", async () => {
        const other = withProp(cronJob, "metadata.labels", { app: "cleanup" });
        const result = await checkResource(withProp(other, "spec.schedule", "*/5 * * * *"));
        expect(result.diagnostics).toEqual([]);
        expect(applied(result, "nas-backup-daily-schedule")).toBe(false);
    });

    it("applies each resource rule only to its resource types", async () => {
        const result = await checkResource(server());
        expect(result.notApplicable).toContainEqual({
            policyName: "storage-minimum-tls",
            reason: `Policy only applies to resources of type '${types.account}'`,
        });
        expect(applied(result, "postgresql-backup-retention")).toBe(true);
        const cluster = await checkResource(digitalOceanCluster());
        expect(applied(cluster, "azure-data-location-allowed")).toBe(false);
        expect(applied(cluster, "stateful-resources-protected")).toBe(true);
    });

    it("accepts the policy's retention in the snapshot tier as well as in the vault-standard tier", async () => {
        for (const policy of [protectionPolicy(), snapshotTierProtectionPolicy()]) {
            const result = await checkResource(policy);
            expect(result.evaluated).toEqual(
                expect.arrayContaining(["file-share-backup-daily-retention", "file-share-backup-monthly-retention"]),
            );
            expect(result.diagnostics).toEqual([]);
        }
    });

    it("checks only AzureFileShare protection policies", async () => {
        const vmPolicy = withProp(protectionPolicy(), "properties", {
            backupManagementType: "AzureIaasVM",
            schedulePolicy: { schedulePolicyType: "SimpleSchedulePolicy", scheduleRunFrequency: "Weekly" },
        });
        const result = await checkResource(vmPolicy);
        expect(result.diagnostics).toEqual([]);
        expect(applied(result, "file-share-backup-daily-schedule")).toBe(false);
    });

    it("links a protected item to its share and policy through engine dependencies when names and ids are unknown (preview)", async () => {
        const previewStack = previewOfStack();
        const result = await checkStack(previewStack);
        expect(result.diagnostics.filter((d) => d.policyName === "file-share-backup-coverage")).toEqual([]);
        expect(result.evaluated).toContain("file-share-backup-coverage");
        // Without the dependencies the same unknowns can only be advisory.
        const unlinked = await checkStack(previewStack.map((r) => ({ ...r, propertyDependencies: {} })));
        expect(
            unlinked.diagnostics
                .filter((d) => d.policyName === "file-share-backup-coverage")
                .map((d) => d.enforcementLevel),
        ).toEqual(["advisory"]);
    });

    it("finds a share protected under its plain name (program) and under its system name (state after deployment)", async () => {
        const deployed = stack.map((r) =>
            r.type === types.item
                ? protectedItem(String(r.props.protectedItemName), undefined, `azurefileshare;${"0a".repeat(32)}`)
                : r,
        );
        for (const input of [stack, deployed]) {
            const result = await checkStack(input);
            expect(applied(result, "file-share-backup-coverage")).toBe(true);
            expect(violations(result, "file-share-backup-coverage")).toEqual([]);
        }
        // The system name alone does not name the share: without friendlyName nothing covers it.
        const nameless = deployed.map((r) =>
            r.type === types.item ? withProp(r, "properties.friendlyName", undefined) : r,
        );
        expect(violations(await checkStack(nameless), "file-share-backup-coverage").length).toBeGreaterThan(0);
    });

    it("every database and share counts, also a second share of another account", async () => {
        const extra = withProp(fileShare("archive"), "accountName", "stother");
        const result = await checkStack([...stack, extra]);
        expect(violations(result, "file-share-backup-coverage")).toEqual([
            expect.stringMatching(/share-archive" is not backed up/),
        ]);
    });
});

describe("NAS jobs on Azure Container Apps (prod, trial)", () => {
    it("every NAS rule that applies to a Container Apps Job is tested with one above, the Kubernetes-only ones are not applicable", async () => {
        const appliedTo = async (r: typeof appsJob) =>
            (await checkResource(r)).evaluated.filter((rule) => rule.startsWith("nas-"));
        const applying = new Set([...(await appliedTo(appsJob)), "nas-backup-coverage"]);
        expect([...applying].sort()).toEqual(Object.keys(containerAppsJobCases).sort());
        const result = await checkResource(appsJob);
        for (const rule of ["nas-cronjob-no-overlap", "nas-cronjob-restricted-pod"]) {
            expect(applied(result, rule), rule).toBe(false);
        }
    });

    it("finds the prod-like stack with a backup, prune, verify and drill job per database and share compliant", async () => {
        for (const r of stackWithContainerAppsJobs) {
            expect((await checkResource(r)).diagnostics, r.name).toEqual([]);
        }
        const result = await checkStack(stackWithContainerAppsJobs);
        expect(result.diagnostics).toEqual([]);
        expect(result.evaluated).toContain("nas-backup-coverage");
    });

    it.each([
        ["0 0 * * *", true],
        ["30 0 * * *", true],
        ["59 21 * * *", true],
        ["0 22 * * *", false],
        ["59 22 * * *", false],
        ["0 23 * * *", true],
    ])("a daily backup at %s UTC passes the daily-schedule rule: %s", async (cron, passes) => {
        const result = await checkResource(
            withProp(appsJob, "configuration.scheduleTriggerConfig.cronExpression", cron),
        );
        expect(violations(result, "nas-backup-daily-schedule")).toHaveLength(passes ? 0 : 1);
    });

    it("leaves Container Apps Jobs that are not NAS jobs alone", async () => {
        const other = withProp(withProp(appsJob, "tags", { app: "cleanup" }), "template.containers.0.env", [
            { name: "MODE", value: "cleanup" },
        ]);
        const result = await checkResource(withProp(other, "configuration.triggerType", "Manual"));
        expect(result.diagnostics).toEqual([]);
        expect(result.evaluated.filter((rule) => rule.startsWith("nas-"))).toEqual([]);
    });
});
