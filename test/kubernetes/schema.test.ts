/**
 * The strict schema check itself: it must refuse what the API server would refuse or silently drop.
 */
import { describe, expect, it } from "vitest";
import { schemaProblems } from "../support/kubernetesSchema";

const cronJob = () => ({
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "backup-main", labels: { "app.kubernetes.io/name": "nas-backup" } },
    spec: {
        schedule: "30 0 * * *",
        timeZone: "Europe/Berlin",
        jobTemplate: {
            spec: {
                template: {
                    spec: {
                        restartPolicy: "Never",
                        containers: [
                            { name: "nas-backup", image: "x@sha256:1", securityContext: { runAsNonRoot: true } },
                        ],
                    },
                },
            },
        },
    },
});

describe("schemaProblems", () => {
    it("accepts a valid CronJob, whatever its labels", () => {
        expect(schemaProblems(cronJob())).toEqual([]);
    });

    it("reports an unknown field, also deep inside the pod template", () => {
        const object = cronJob();
        (object.spec as Record<string, unknown>).timezone = "Europe/Berlin";
        (
            object.spec.jobTemplate.spec.template.spec.containers[0].securityContext as Record<string, unknown>
        ).readonlyRootFilesystem = true;
        expect(schemaProblems(object).sort()).toEqual([
            "unknown field /spec/jobTemplate/spec/template/spec/containers/0/securityContext/readonlyRootFilesystem",
            "unknown field /spec/timezone",
        ]);
    });

    it("reports a wrong type and a missing required field", () => {
        const object = cronJob();
        (object.spec as Record<string, unknown>).startingDeadlineSeconds = "3600";
        expect(schemaProblems(object).join("\n")).toMatch(/startingDeadlineSeconds/);
        const { schedule: _schedule, ...spec } = cronJob().spec;
        expect(schemaProblems({ ...cronJob(), spec }).join("\n")).toMatch(/schedule/);
    });

    it("reports a kind it has no schema for", () => {
        expect(schemaProblems({ apiVersion: "v1", kind: "Pod" })).toEqual(["no schema for v1/Pod"]);
    });
});
