/**
 * Backup failures reach a person on prod and trial (§2.13.2, §2.15): the action group with the
 * configured receivers, the routing of the vault's backup alerts, and the RPO alert.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import { rpoAlertQuery, rpoAlertThresholdHours } from "../../components/azure/backupAlerts";
import { rpoAlertGraceHours } from "../../components/azure/settings";
import { OfflineRun, readStackFile, resourcesOfType, runStackOffline } from "../../stacks/offline";
import { input, only } from "../support/resources";

const T = {
    vault: "azure-native:recoveryservices:Vault",
    workspace: "azure-native:operationalinsights:Workspace",
    actionGroup: "azure-native:monitor:ActionGroup",
    routing: "azure-native:alertsmanagement:AlertProcessingRuleByName",
    rpo: "azure-native:monitor:ScheduledQueryRule",
} as const;

describe.each(["prod", "trial"])("stack %s: backup alerts", (stack) => {
    let run: OfflineRun;
    const azure = readStackFile(stack).config["backup-policy:azure"] as {
        alerts: { emailReceivers: string[] };
        vault: { name: string };
    };
    const shares = readStackFile(stack).config["backup-policy:shares"] as string[];
    beforeAll(async () => {
        run = await runStackOffline({ stack });
    });

    it("e-mails the configured receivers through one enabled action group", () => {
        const group = only(run, T.actionGroup);
        expect(input(group, "enabled")).toBe(true);
        const receivers = input(group, "emailReceivers") as { emailAddress: string }[];
        expect(receivers.map((r) => r.emailAddress)).toEqual(azure.alerts.emailReceivers);
        expect(receivers.length).toBeGreaterThan(0);
    });

    it("routes every alert of the vault to the action group (without it, job-failure alerts reach nobody)", () => {
        const routing = only(run, T.routing);
        expect(input(routing, "properties.enabled")).toBe(true);
        expect(input(routing, "properties.scopes")).toEqual([only(run, T.vault).id]);
        expect(input(routing, "properties.actions")).toEqual([
            { actionType: "AddActionGroups", actionGroupIds: [only(run, T.actionGroup).id] },
        ]);
    });

    it("fires an RPO alert per share without a successful backup for the RPO plus a small grace", () => {
        // The file-share RPO rule (the NAS backup jobs' rules are tested in test/azure/nasBackup.test.ts).
        const [rule] = resourcesOfType(run, T.rpo).filter((r) => r.inputs.ruleName === "backup-policy-file-share-rpo");
        expect(input(rule, "kind")).toBe("LogAlert");
        expect(input(rule, "enabled")).toBe(true);
        expect(input(rule, "scopes")).toEqual([only(run, T.workspace).id]);
        expect(input(rule, "actions.actionGroups")).toEqual([only(run, T.actionGroup).id]);
        const query = input(rule, "criteria.allOf.0.query") as string;
        expect(query).toBe(rpoAlertQuery(azure.vault.name, shares, backupPolicy.rpoHours.value + rpoAlertGraceHours));
        expect(input(rule, "criteria.allOf.0")).toMatchObject({
            timeAggregation: "Count",
            operator: "GreaterThan",
            threshold: 0,
        });
        // The query looks back far enough to see the last successful backup past the threshold.
        expect(input(rule, "windowSize")).toBe("P2D");
        expect(rpoAlertThresholdHours).toBeLessThan(48);
    });
});

describe("the RPO alert's query", () => {
    const query = rpoAlertQuery("rsv-Prod", ["documents", "images"], 26);

    it("reads the vault's resource-specific Azure Backup tables", () => {
        expect(query).toContain("AddonAzureBackupJobs");
        expect(query).toContain("CoreAzureBackup");
        expect(query).toContain('let vault = "/providers/microsoft.recoveryservices/vaults/rsv-prod";');
        expect(query).toMatch(/JobOperation == "Backup"/);
        expect(query).toMatch(/JobStatus in \("Completed", "CompletedWithWarnings"\)/);
    });

    it("lists every configured share, so a share that never had a backup also fires", () => {
        expect(query).toContain('datatable(Share: string) ["documents", "images"]');
        expect(query).toContain("isnull(LastSuccessfulBackup) or LastSuccessfulBackup < ago(threshold)");
        expect(query.startsWith("let threshold = 26h;")).toBe(true);
    });

    it("takes its threshold from the policy's RPO", () => {
        expect(rpoAlertThresholdHours).toBe(backupPolicy.rpoHours.value + rpoAlertGraceHours);
        expect(rpoAlertGraceHours).toBeLessThanOrEqual(3);
    });
});
