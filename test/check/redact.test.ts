/**
 * The offline check's second line of defence: every secret value of the run is replaced by "[secret]"
 * in the report, but the plain parts of a property that is secret as a whole (a Container Apps Job's
 * `configuration` holds its job secrets, so the engine marks all of it secret) are left alone where
 * the run shows them in the clear anyway, instead of garbling type tokens and share names.
 */
import { describe, expect, it } from "vitest";
import { redactor, secretMarker, secretValues } from "../../policies/check/redact";
import type { OfflineResource, OfflineRun } from "../../stacks/offline";

const options: OfflineResource["options"] = {
    protect: false,
    dependsOn: [],
    ignoreChanges: [],
    retainOnDelete: false,
    deleteBeforeReplace: false,
    replaceOnChanges: [],
    additionalSecretOutputs: [],
};

function resource(type: string, name: string, inputs: Record<string, unknown>, secret: string[] = []): OfflineResource {
    return {
        type,
        name,
        urn: `urn:pulumi:prod::backup-policy::${type}::${name}`,
        custom: true,
        inputs,
        secretInputs: secret,
        outputs: inputs,
        secretOutputs: secret,
        options,
    };
}

const password = "offline-placeholder-password-nas-repository-key";
const run: OfflineRun = {
    project: "backup-policy",
    stack: "prod",
    config: { "backup-policy:nasPassword": "[secret placeholder: backup-policy:nasPassword]" },
    secretConfigKeys: ["backup-policy:nasPassword"],
    stackUrn: "urn:pulumi:prod::backup-policy::pulumi:pulumi:Stack::backup-policy-prod",
    outputs: {},
    secretOutputs: [],
    log: [],
    resources: [
        resource("azure-native:storage:FileShare", "files-share-documents", { shareName: "documents" }),
        resource("azure-native:monitor:ScheduledQueryRule", "alerts-rpo", { ruleName: "rpo" }),
        resource(
            "azure-native:app:Job",
            "nas-backup-documents",
            {
                tags: { "backup-policy.it-manufactory.de:target-name": "documents" },
                configuration: {
                    triggerType: "Schedule",
                    scheduleTriggerConfig: { cronExpression: "30 23 * * *" },
                    secrets: [
                        { name: "repository-password", value: password },
                        { name: "share", value: "documents" },
                    ],
                },
            },
            ["configuration"],
        ),
    ],
};

describe("redaction of an offline run", () => {
    it("replaces the secrets, also inside a secret object, wherever they appear", () => {
        const redact = redactor(run);
        expect(redact(`key ${password}; ${run.config["backup-policy:nasPassword"]}`)).toBe(
            `key ${secretMarker}; ${secretMarker}`,
        );
        expect(redact({ evidence: [{ value: password }] })).toEqual({ evidence: [{ value: secretMarker }] });
        // Only shown inside the secret configuration: hidden.
        expect(redact("schedule 30 23 * * *")).toBe(`schedule ${secretMarker}`);
    });

    it("leaves alone what the run shows in the clear anyway: type tokens, share names", () => {
        expect(secretValues(run)).not.toContain("Schedule");
        expect(secretValues(run)).not.toContain("documents");
        const redact = redactor(run);
        expect(redact('azure-native:monitor:ScheduledQueryRule "alerts-rpo"; share documents')).toBe(
            'azure-native:monitor:ScheduledQueryRule "alerts-rpo"; share documents',
        );
    });
});
