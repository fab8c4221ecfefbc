/**
 * staging (§2.5.1.2): DigitalOcean FRA1, backed up only to the NAS. The real program under mocks
 * (stacks/offline.ts answers the invokes getKubernetesVersions, getKubernetesCluster, getDatabaseCa).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
    databaseFirewallRuleTypes,
    kubeconfigExpireSeconds,
    kubePrometheusStack,
    managedPostgresPort,
} from "../../components/digitalocean/settings";
import { readNasBackupDeclaration } from "../../components/kubernetes/nasBackupContract";
import { backupPolicy } from "../../components/policy";
import {
    mockDigitalOceanDatabaseCa,
    type OfflineRun,
    readStackFile,
    resourcesOfType,
    runStackOffline,
} from "../../stacks/offline";
import { configWith } from "../support/stackConfig";
import { input, only } from "../support/resources";

const t = {
    vpc: "digitalocean:index/vpc:Vpc",
    doks: "digitalocean:index/kubernetesCluster:KubernetesCluster",
    k8sProvider: "pulumi:providers:kubernetes",
    cluster: "digitalocean:index/databaseCluster:DatabaseCluster",
    db: "digitalocean:index/databaseDb:DatabaseDb",
    firewall: "digitalocean:index/databaseFirewall:DatabaseFirewall",
    nfs: "digitalocean:index/nfs:Nfs",
    pv: "kubernetes:core/v1:PersistentVolume",
    pvc: "kubernetes:core/v1:PersistentVolumeClaim",
    project: "digitalocean:index/project:Project",
    helm: "kubernetes:helm.sh/v3:Release",
    cronJob: "kubernetes:batch/v1:CronJob",
    secret: "kubernetes:core/v1:Secret",
    configMap: "kubernetes:core/v1:ConfigMap",
} as const;

const file = readStackFile("staging").config;
/** The parts of Pulumi.staging.yaml's `digitalocean` section these tests compare with. */
interface StagingFileSettings {
    name: string;
    vpc: { ipRange: string };
    kubernetes: { versionPrefix: string; ha: boolean; nodePool: { size: string } };
    maintenance: { day: string; startTime: string };
    postgres: { version: string };
    fileStorage: { sizeGiB: number };
    monitoring: { alertReceiver: { to: string } };
}
const settings = file["backup-policy:digitalocean"] as StagingFileSettings;
const databaseNames = Object.values(file["backup-policy:databases"] as Record<string, string>);
let run: OfflineRun;

beforeAll(async () => {
    run = await runStackOffline({ stack: "staging" });
});

describe("the staging stack", () => {
    it("runs without error or warning", () => {
        expect(run.error).toBeUndefined();
        expect(run.log.filter((entry) => entry.severity === "warning" || entry.severity === "error")).toEqual([]);
    });

    it("puts every regional resource in the policy's region", () => {
        const region = backupPolicy.regions.digitalocean.value;
        const regional = [t.vpc, t.doks, t.cluster, t.nfs].flatMap((type) => resourcesOfType(run, type));
        // VPC, DOKS cluster, database cluster and one share per file resource.
        expect(regional).toHaveLength(3 + backupPolicy.fileResources.value.length);
        for (const resource of regional) {
            expect(resource.inputs.region, resource.name).toBe(region);
        }
    });

    it("builds the DOKS cluster in the VPC: version by prefix, HA explicit, surge auto-upgrades in the window", () => {
        const vpc = only(run, t.vpc);
        expect(input(vpc, "ipRange")).toBe(settings.vpc.ipRange);
        const doks = only(run, t.doks);
        expect(doks.inputs.vpcUuid).toBe(vpc.id);
        // The mocks list "<prefix>2-do.0" first, as DigitalOcean lists the newest first.
        expect(doks.inputs.version).toBe(`${settings.kubernetes.versionPrefix}2-do.0`);
        expect(doks.inputs.ha).toBe(settings.kubernetes.ha);
        expect(doks.inputs.autoUpgrade).toBe(true);
        expect(doks.inputs.surgeUpgrade).toBe(true);
        expect(doks.inputs.maintenancePolicy).toEqual(settings.maintenance);
        expect(input(doks, "nodePool.size")).toBe(settings.kubernetes.nodePool.size);
        expect(doks.options.protect).toBe(true);
    });

    it("builds the Kubernetes provider from a fresh kubeconfig and pins it to the cluster id", () => {
        const doks = only(run, t.doks);
        const provider = only(run, t.k8sProvider);
        expect(provider.inputs.clusterIdentifier).toBe(doks.id);
        expect(provider.inputs.kubeconfig).toBe(`offline-placeholder-kubeconfig-${settings.name}`);
        expect(provider.secretInputs).toContain("kubeconfig");
        expect(kubeconfigExpireSeconds).toBeLessThan(7 * 24 * 3600);
        // Every Kubernetes resource goes through this provider, none through a default one.
        const kubernetes = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
        expect(kubernetes.length).toBeGreaterThan(0);
        for (const resource of kubernetes) {
            expect(resource.options.provider, resource.name).toBe(provider.urn);
        }
    });

    it("places managed PostgreSQL in the VPC with one database per service, reachable only from the cluster", () => {
        const cluster = only(run, t.cluster);
        expect(cluster.inputs).toMatchObject({
            engine: "pg",
            version: settings.postgres.version,
            privateNetworkUuid: only(run, t.vpc).id,
        });
        expect(Number(cluster.inputs.version)).toBeGreaterThanOrEqual(16);
        expect(cluster.options.protect).toBe(true);
        const databases = resourcesOfType(run, t.db);
        expect(databases.map((db) => db.inputs.name).sort()).toEqual([...databaseNames].sort());
        for (const db of databases) {
            expect(db.inputs.clusterId).toBe(cluster.id);
            expect(db.options.protect).toBe(true);
        }
        const firewall = only(run, t.firewall);
        expect(firewall.inputs.clusterId).toBe(cluster.id);
        expect(firewall.inputs.rules).toEqual([
            { type: databaseFirewallRuleTypes.kubernetesCluster, value: only(run, t.doks).id },
        ]);
        expect(firewall.options.protect).toBe(true);
    });

    it("gives Documents & Images a protected Network File Storage share each, claimed read-only by the NAS backups", () => {
        const shares = resourcesOfType(run, t.nfs);
        expect(shares.map((share) => share.inputs.name).sort()).toEqual(
            backupPolicy.fileResources.value.map((resource) => `${settings.name}-${resource}`).sort(),
        );
        for (const share of shares) {
            expect(share.inputs.vpcId).toBe(only(run, t.vpc).id);
            expect(share.inputs.size).toBe(settings.fileStorage.sizeGiB);
            expect(share.options.protect).toBe(true);
        }
        const volumes = resourcesOfType(run, t.pv);
        expect(volumes).toHaveLength(shares.length);
        for (const volume of volumes) {
            expect(input(volume, "spec.nfs.server")).toBe(shares[0].outputs.host);
            expect(input(volume, "spec.persistentVolumeReclaimPolicy")).toBe("Retain");
            expect(input(volume, "spec.accessModes")).toEqual(["ReadOnlyMany"]);
        }
        const claims = resourcesOfType(run, t.pvc);
        expect(claims.map((claim) => input(claim, "metadata.name")).sort()).toEqual(
            [...backupPolicy.fileResources.value].sort(),
        );
        for (const claim of claims) {
            expect(input(claim, "metadata.namespace")).toBe(run.outputs.nasBackupNamespace);
        }
    });

    it("backs up every database over the private host and port with TLS verified against the cluster CA", () => {
        const backups = resourcesOfType(run, t.cronJob).filter((cronJob) => {
            const declaration = readNasBackupDeclaration(cronJob.inputs.metadata);
            return declaration !== undefined && /backup/.test(cronJob.name);
        });
        const declared = backups.map((cronJob) => readNasBackupDeclaration(cronJob.inputs.metadata));
        for (const name of databaseNames) {
            expect(declared).toContainEqual(expect.objectContaining({ kind: "database", name }));
        }
        for (const resource of backupPolicy.fileResources.value) {
            expect(declared).toContainEqual(
                expect.objectContaining({ kind: "file-share", name: `${settings.name}-${resource}` }),
            );
        }
        const rendered = JSON.stringify(backups.map((cronJob) => cronJob.inputs));
        const cluster = only(run, t.cluster);
        expect(rendered).toContain(String(cluster.outputs.privateHost));
        expect(rendered).not.toContain(`"${String(cluster.outputs.host)}"`);
        expect(rendered).toContain(String(managedPostgresPort));
        expect(rendered).toContain("verify-ca");
        const caMaps = resourcesOfType(run, t.configMap).map((map) => JSON.stringify(map.inputs));
        expect(caMaps.some((map) => map.includes("offline mock CA"))).toBe(true);
        expect(mockDigitalOceanDatabaseCa).toContain("offline mock CA");
    });

    it("installs kube-prometheus-stack pinned, with the configured receiver", () => {
        const release = only(run, t.helm);
        expect(release.inputs.chart).toBe(kubePrometheusStack.chart);
        expect(release.inputs.version).toMatch(/^\d+\.\d+\.\d+$/);
        expect(input(release, "values.alertmanager.config.route.receiver")).toBe("backup-operators");
        const receivers = input(release, "values.alertmanager.config.receivers") as { name: string }[];
        expect(JSON.stringify(receivers)).toContain(settings.monitoring.alertReceiver.to);
        // An e-mail receiver without SMTP login holds no secret; a webhook URL or SMTP password would make the values secret.
        expect(release.secretInputs).not.toContain("values");
    });

    it("groups the clusters in a DigitalOcean project of environment Staging", () => {
        const project = only(run, t.project);
        expect(project.inputs.environment).toBe("Staging");
        expect(project.inputs.resources).toEqual([
            only(run, t.doks).outputs.clusterUrn,
            only(run, t.cluster).outputs.clusterUrn,
        ]);
    });

    it("exports the NAS repository key as a secret and shows no secret in plain text", () => {
        expect(run.secretOutputs).toContain("nasRepositoryPassword");
        const secrets = [
            `offline-placeholder-password-${only(run, t.cluster).name}`,
            ...Object.keys(run.config)
                .filter((key) => run.secretConfigKeys.includes(key))
                .map((key) => run.config[key]),
        ];
        for (const resource of run.resources) {
            for (const [name, value] of Object.entries(resource.inputs)) {
                const text = JSON.stringify(value);
                if (secrets.some((secret) => text.includes(secret))) {
                    expect(resource.secretInputs, `${resource.type} ${resource.name}.${name}`).toContain(name);
                }
            }
        }
    });
});

describe("a wrong staging configuration", () => {
    it("stops with one clear error naming the key and registers nothing", async () => {
        const wrong = await runStackOffline({
            stack: "staging",
            config: configWith("staging", [["backup-policy:digitalocean", "postgres", "version"], "17"]),
        });
        expect(wrong.resources).toEqual([]);
        expect(wrong.error?.name).toBe("ConfigError");
        expect(wrong.error?.message).toMatch(/digitalocean\.postgres\.version: 17 is not allowed; allowed: 16/);
    });

    it("refuses a maintenance window that overlaps a NAS backup run", async () => {
        const wrong = await runStackOffline({
            stack: "staging",
            config: configWith("staging", [["backup-policy:digitalocean", "maintenance", "startTime"], "21:00"]),
        });
        expect(wrong.resources).toEqual([]);
        expect(wrong.error?.message).toMatch(/digitalocean\.maintenance\.startTime: .*overlaps.*NAS backup at/);
    });
});
