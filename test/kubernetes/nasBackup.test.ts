/**
 * The NAS backup component under mocks: what it renders for the cluster.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import { readNasBackupDeclaration } from "../../components/kubernetes/nasBackupContract";
import { jobBounds } from "../../components/kubernetes/schedule";
import { resourcesOfType, type OfflineResource, type OfflineRun } from "../../stacks/offline";
import { restrictedProblems } from "../../policies/lib/podSecurity";
import { schemaProblems } from "../support/kubernetesSchema";
import { runNasBackup, secretValues } from "./fixture";

let run: OfflineRun;
beforeAll(async () => {
    run = await runNasBackup();
    expect(run.error).toBeUndefined();
});

const cronJobs = () => resourcesOfType(run, "kubernetes:batch/v1:CronJob");
const named = (name: string) => cronJobs().find((c) => (c.inputs.metadata as { name: string }).name === name);
const spec = (cronJob: OfflineResource | undefined) => cronJob?.inputs.spec as Record<string, any>;
const podSpec = (cronJob: OfflineResource | undefined) => spec(cronJob).jobTemplate.spec.template.spec;

describe("NasBackup", () => {
    it("gives every database and file resource a backup, prune, verify and drill CronJob", () => {
        for (const target of ["main", "auth", "documents", "images"]) {
            for (const operation of ["backup", "prune", "verify", "drill"]) {
                expect(named(`${operation}-${target}`), `${operation}-${target}`).toBeDefined();
            }
        }
        expect(cronJobs()).toHaveLength(16);
    });

    it("declares each backup CronJob's target and the policy's retention, and only backup CronJobs", () => {
        const declared = cronJobs().flatMap((c) => readNasBackupDeclaration(c.inputs.metadata) ?? []);
        expect(declared.map((d) => `${d.kind}:${d.name}`).sort()).toEqual(
            ["database:auth", "database:main", "file-share:documents", "file-share:images"].sort(),
        );
        for (const d of declared) {
            expect(d.dailyRetentionDays).toBe(backupPolicy.nas.dailyRetentionDays.value);
            expect(d.monthlyRetentionMonths).toBe(backupPolicy.nas.monthlyRetentionMonths.value);
        }
    });

    it("runs the backup daily at the configured time in the policy's time zone, never twice at once", () => {
        const backup = spec(named("backup-main"));
        expect(backup.schedule).toBe("30 0 * * *");
        expect(backup.timeZone).toBe(backupPolicy.nas.timeZone.value);
        expect(backup.concurrencyPolicy).toBe("Forbid");
        expect(backup.startingDeadlineSeconds).toBe(jobBounds.backup.startingDeadlineSeconds);
        expect(backup.jobTemplate.spec.activeDeadlineSeconds).toBeLessThan(24 * 3600);
        expect(backup.failedJobsHistoryLimit).toBeGreaterThan(0);
    });

    it("prunes with the maintenance credentials after the backup and keeps them out of backup pods", () => {
        expect(spec(named("prune-main")).schedule).toBe("30 6 * * *");
        const secretsOf = (name: string) =>
            JSON.stringify(podSpec(named(name)).containers[0].env).match(/nas-backup-[a-z-]+/g);
        expect(secretsOf("prune-main")).toContain("nas-backup-maintenance");
        expect(podSpec(named("prune-main")).serviceAccountName).toBe("nas-backup-maintenance");
        for (const name of ["backup-main", "backup-documents", "verify-main", "drill-images"]) {
            expect(secretsOf(name)).not.toContain("nas-backup-maintenance");
        }
    });

    it("restores databases into a scratch PostgreSQL sidecar in verify and drill pods", () => {
        const drill = podSpec(named("drill-main"));
        expect(drill.initContainers[0].restartPolicy).toBe("Always");
        expect(drill.initContainers[0].startupProbe.exec.command).toContain("pg_isready");
        expect(drill.containers[0].args).toEqual(["verify", "--target", "main", "--read-data-subset", "100%"]);
        expect(spec(named("drill-main")).schedule).toMatch(/^\d+ \d+ 15 \* \*$/);
        expect(podSpec(named("verify-documents")).initContainers).toBeUndefined();
    });

    it("mounts the file resource's claim read-only", () => {
        const pod = podSpec(named("backup-documents"));
        expect(pod.volumes).toContainEqual({
            name: "data",
            persistentVolumeClaim: { claimName: "documents", readOnly: true },
        });
        expect(pod.containers[0].volumeMounts).toContainEqual({
            name: "data",
            mountPath: "/data/documents",
            readOnly: true,
        });
    });

    it("builds every pod to the restricted Pod Security Standard", () => {
        for (const cronJob of cronJobs()) {
            expect(restrictedProblems(podSpec(cronJob)), cronJob.name).toEqual([]);
        }
    });

    it("labels the namespace to enforce, audit and warn the restricted Pod Security Standard", () => {
        const [namespace] = resourcesOfType(run, "kubernetes:core/v1:Namespace");
        const labels = (namespace.inputs.metadata as { labels: Record<string, string> }).labels;
        for (const mode of ["enforce", "audit", "warn"]) {
            expect(labels[`pod-security.kubernetes.io/${mode}`]).toBe("restricted");
        }
    });

    it("exports the repository key as a secret stack output and protects it", () => {
        expect(run.secretOutputs).toContain("nasBackupRepositoryPassword");
        const [key] = resourcesOfType(run, "random:index/randomPassword:RandomPassword").filter((r) =>
            r.name.endsWith("repository-key"),
        );
        expect(key.options.protect).toBe(true);
        expect(run.outputs.nasBackupRepositoryPassword).toBe(key.outputs.result);
    });

    it("puts no secret value anywhere but in Secrets marked secret", () => {
        const [key] = resourcesOfType(run, "random:index/randomPassword:RandomPassword");
        const values = [
            secretValues.appendOnlyPassword,
            secretValues.maintenancePassword,
            secretValues.databasePassword("main"),
            secretValues.databasePassword("auth"),
            String(key.outputs.result),
        ];
        for (const resource of run.resources.filter((r) => r.type.startsWith("kubernetes:"))) {
            for (const [property, value] of Object.entries(resource.inputs)) {
                const text = JSON.stringify(value);
                const leaked = values.filter((v) => text.includes(v));
                if (leaked.length > 0) {
                    expect(resource.type, `${resource.name}.${property}`).toBe("kubernetes:core/v1:Secret");
                    expect(resource.secretInputs, `${resource.name}.${property}`).toContain(property);
                }
            }
        }
        const secrets = resourcesOfType(run, "kubernetes:core/v1:Secret");
        expect(secrets.filter((s) => s.secretInputs.includes("stringData"))).toHaveLength(secrets.length);
    });

    it("renders only objects that validate against the Kubernetes API schema, unknown fields refused", () => {
        const objects = run.resources.filter(
            (r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes",
        );
        expect(objects.length).toBeGreaterThan(16);
        for (const object of objects) {
            expect(schemaProblems(object.inputs as Record<string, unknown>), object.name).toEqual([]);
        }
    });
});

describe("NasBackup alerts", () => {
    const rules = () => {
        const [rule] = resourcesOfType(run, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").filter(
            (r) => r.inputs.kind === "PrometheusRule",
        );
        return rule;
    };
    const alertsFor = (cronJob: string) =>
        (rules().inputs.spec as { groups: { rules: { alert: string; expr: string }[] }[] }).groups
            .flatMap((g) => g.rules)
            .filter((r) => r.expr.includes(`"${cronJob}"`));

    it("carries the labels kube-prometheus-stack selects rules by", () => {
        expect((rules().inputs.metadata as { labels: Record<string, string> }).labels).toEqual({
            release: "kube-prometheus-stack",
        });
    });

    it("watches every backup CronJob by namespace and name: stale, never succeeded, failed, over deadline, suspended, absent", () => {
        for (const target of ["main", "auth", "documents", "images"]) {
            const alerts = alertsFor(`backup-${target}`);
            expect(alerts.map((a) => a.alert).sort()).toEqual([
                "NasBackupAbsent",
                "NasBackupJobFailed",
                "NasBackupJobOverDeadline",
                "NasBackupNeverSucceeded",
                "NasBackupSuspended",
                "NasBackupTooOld",
            ]);
            const tooOld = alerts.find((a) => a.alert === "NasBackupTooOld")!;
            expect(tooOld.expr).toBe(
                `time() - kube_cronjob_status_last_successful_time{namespace="nas-backup",cronjob="backup-${target}"} > ${26 * 3600}`,
            );
            const failed = alerts.find((a) => a.alert === "NasBackupJobFailed")!;
            expect(failed.expr).toContain(
                `kube_job_owner{namespace="nas-backup",owner_kind="CronJob",owner_name="backup-${target}"}`,
            );
        }
    });

    it("watches the runner's Pushgateway metrics with the same staleness when a Pushgateway is set, and creates no rule when alerts are off", async () => {
        const pushed = await runNasBackup((a) => ({
            ...a,
            alerts: {
                prometheusRule: true,
                pushgateway: { url: "http://pushgateway.monitoring.svc:9091", namespace: "monitoring" },
            },
        }));
        const spec = JSON.stringify(
            resourcesOfType(pushed, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")[0].inputs.spec,
        );
        expect(spec).toContain(
            `nas_backup_last_success_timestamp_seconds{operation=\\"backup\\",target=\\"main\\"} > ${26 * 3600}`,
        );
        // The RTO watched: the drill's restore time against the share of the RTO verify pushes with it.
        expect(spec).toContain(
            `nas_backup_restore_projected_seconds{operation=\\"verify\\",target=\\"main\\"} > nas_backup_restore_budget_seconds{operation=\\"verify\\",target=\\"main\\"}`,
        );
        const env = JSON.stringify(resourcesOfType(pushed, "kubernetes:batch/v1:CronJob")[0].inputs.spec);
        expect(env).toContain("NAS_BACKUP_PUSHGATEWAY_URL");
        const off = await runNasBackup((a) => ({ ...a, alerts: { prometheusRule: false } }));
        expect(resourcesOfType(off, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")).toEqual([]);
    });
});

describe("NasBackup arguments", () => {
    const refused = async (patch: Parameters<typeof runNasBackup>[0]) => (await runNasBackup(patch)).error?.message;

    it("refuses an image without a digest", async () => {
        expect(await refused((a) => ({ ...a, image: "ghcr.io/it-manufactory/nas-backup:1.0" }))).toMatch(
            /image is "ghcr.io\/it-manufactory\/nas-backup:1.0"; pin the image by digest/,
        );
    });

    it("refuses a backup time in the hour skipped or repeated on DST changes", async () => {
        expect(await refused((a) => ({ ...a, dailyBackupTime: "02:30" }))).toMatch(/dailyBackupTime is "02:30"/);
    });

    it("refuses plain http to a NAS that is not loopback", async () => {
        const nas = (a: Parameters<NonNullable<Parameters<typeof runNasBackup>[0]>>[0]) => ({
            ...a.nas,
            appendOnly: { ...a.nas.appendOnly, repositoryBase: "rest:http://nas.example:8000/" },
        });
        expect(await refused((a) => ({ ...a, nas: nas(a) }))).toMatch(/nas.appendOnly.repositoryBase .*plain HTTP/);
    });

    it("refuses certificate verification without a CA", async () => {
        const message = await refused((a) => ({
            ...a,
            databases: [{ ...a.databases[0], tls: { mode: "verify-full" } }],
        }));
        expect(message).toMatch(
            /databases\[0\]\.tls\.mode is "verify-full"; it needs databases\[0\]\.tls\.caCertificate/,
        );
    });
});
