/**
 * staging (§2.5.1.2): DigitalOcean FRA1, backed up only to the NAS. The real program under mocks
 * (stacks/offline.ts answers the invokes getKubernetesVersions, getKubernetesCluster, getDatabaseCa).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    databaseFirewallRuleTypes,
    kubeconfigExpireSeconds,
    kubePrometheusStack,
    managedPostgresPort,
} from "../../components/digitalocean/settings";
import { fileResourceClaimAnnotation, readNasBackupDeclaration } from "../../components/kubernetes/nasBackupContract";
import { check } from "../../policies/check/run";
import { backupPolicy } from "../../components/policy";
import {
    mockDigitalOceanDatabaseCa,
    type OfflineRun,
    readStackFile,
    resourcesOfType,
    runStackOffline,
} from "../../stacks/offline";
import { type ConfigPath, configWith } from "../support/stackConfig";
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
    claimPatch: "kubernetes:core/v1:PersistentVolumeClaimPatch",
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

const fileStorageKey: ConfigPath = ["backup-policy:digitalocean", "fileStorage"];
const at = (...keys: string[]): ConfigPath => [...fileStorageKey, ...keys];
/** Images in an existing claim of the NAS backup namespace; documents stays a managed share. */
const imagesClaim = { images: { namespace: "nas-backup", claimName: "images-files" } };
const everyClaim = { ...imagesClaim, documents: { namespace: "nas-backup", claimName: "documents-files" } };
/** Every file resource in an existing claim: no size or tier needed. */
const allClaimsConfig = configWith("staging", [fileStorageKey, { existingClaims: everyClaim }]);

/** The pod spec of the NAS backup CronJob of file resource `name` (as declared). */
function backupPodOf(run: OfflineRun, name: string): Record<string, unknown> {
    const cronJob = resourcesOfType(run, t.cronJob).find((c) => {
        const declaration = readNasBackupDeclaration(c.inputs.metadata);
        return declaration?.name === name && input(c, "metadata.name") === `backup-${name.split("-").pop()}`;
    });
    expect(cronJob, `backup CronJob of ${name}`).toBeDefined();
    return input(cronJob!, "spec.jobTemplate.spec.template.spec") as Record<string, unknown>;
}

describe("staging with file resources in existing claims (where Network File Storage is not offered)", () => {
    let mixed: OfflineRun;
    let allClaims: OfflineRun;
    beforeAll(async () => {
        mixed = await runStackOffline({
            stack: "staging",
            config: configWith("staging", [at("existingClaims"), imagesClaim]),
        });
        allClaims = await runStackOffline({ stack: "staging", config: allClaimsConfig });
    });

    it("keeps the managed share of documents and creates no share, volume or claim for images", () => {
        expect(mixed.error).toBeUndefined();
        expect(resourcesOfType(mixed, t.nfs).map((share) => share.inputs.name)).toEqual([`${settings.name}-documents`]);
        expect(resourcesOfType(mixed, t.pv)).toHaveLength(1);
        expect(resourcesOfType(mixed, t.pvc).map((claim) => input(claim, "metadata.name"))).toEqual(["documents"]);
    });

    it("marks the existing claim as the images file resource, in the NAS backup namespace", () => {
        const marker = only(mixed, t.claimPatch);
        expect(input(marker, "metadata.name")).toBe("images-files");
        expect(input(marker, "metadata.namespace")).toBe(mixed.outputs.nasBackupNamespace);
        expect(input(marker, "metadata.annotations")).toEqual({
            [fileResourceClaimAnnotation]: `${settings.name}-images`,
        });
        // Only metadata: the patch cannot create or resize a claim.
        expect(Object.keys(marker.inputs).filter((key) => !["apiVersion", "kind", "metadata"].includes(key))).toEqual(
            [],
        );
    });

    it("backs up each file resource from its own claim, mounted read-only", () => {
        for (const [resource, claim] of [
            ["documents", "documents"],
            ["images", "images-files"],
        ]) {
            const pod = backupPodOf(mixed, `${settings.name}-${resource}`);
            const volumes = pod.volumes as { name: string; persistentVolumeClaim?: unknown }[];
            expect(volumes.filter((v) => v.persistentVolumeClaim)).toEqual([
                { name: "data", persistentVolumeClaim: { claimName: claim, readOnly: true } },
            ]);
            const mounts = (pod.containers as { volumeMounts: { name: string; readOnly?: boolean }[] }[])[0]
                .volumeMounts;
            expect(mounts.find((m) => m.name === "data")?.readOnly).toBe(true);
        }
    });

    it("needs no Network File Storage at all when every file resource is an existing claim", () => {
        expect(allClaims.error).toBeUndefined();
        expect(resourcesOfType(allClaims, t.nfs)).toEqual([]);
        expect(resourcesOfType(allClaims, t.pv)).toEqual([]);
        expect(resourcesOfType(allClaims, t.pvc)).toEqual([]);
        expect(resourcesOfType(allClaims, "backup-policy:digitalocean:NetworkFileStorage")).toEqual([]);
        expect(
            resourcesOfType(allClaims, t.claimPatch)
                .map((m) => input(m, "metadata.name"))
                .sort(),
        ).toEqual(["documents-files", "images-files"]);
        expect(allClaims.outputs.fileShareNames).toEqual(
            backupPolicy.fileResources.value.map((resource) => `${settings.name}-${resource}`),
        );
    });

    it("is COMPLIANT under the policy pack, each claim's NAS backup evidenced", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "staging-claims-"));
        afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
        fs.copyFileSync(path.join(__dirname, "..", "..", "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.writeFileSync(path.join(dir, "Pulumi.staging.yaml"), YAML.stringify({ config: allClaimsConfig }));
        const report = (await check({ stacks: ["staging"], projectDir: dir })).stacks[0];
        expect(report.verdict).toBe("compliant");
        const coverage = report.evidence.filter(
            (row) => row.rule === "nas-backup-coverage" && row.resource?.type === t.claimPatch,
        );
        // One row per clause the rule proves (the NAS schedule, the file resources), each met.
        expect(coverage.length).toBeGreaterThan(0);
        expect(coverage.every((row) => row.status === "met")).toBe(true);
        expect([...new Set(coverage.map((row) => row.resource?.name))].sort()).toEqual([
            "existing-files-documents-files",
            "existing-files-images-files",
        ]);
    });
});

describe("a wrong existing claim", () => {
    const wrong = async (...changes: [ConfigPath, unknown][]) => {
        const run = await runStackOffline({ stack: "staging", config: configWith("staging", ...changes) });
        expect(run.resources).toEqual([]);
        expect(run.error?.name).toBe("ConfigError");
        return run.error?.message ?? "";
    };

    it("must be in the NAS backup namespace", async () => {
        expect(
            await wrong([at("existingClaims"), { images: { namespace: "automotive", claimName: "images" } }]),
        ).toMatch(
            /digitalocean\.fileStorage\.existingClaims\.images\.namespace: automotive is not allowed; allowed: nas-backup \(the NAS backup pods run there/,
        );
    });

    it("must name a file resource of the stack and a valid claim", async () => {
        const message = await wrong([
            at("existingClaims"),
            {
                videos: { namespace: "nas-backup", claimName: "videos" },
                images: { namespace: "nas-backup", claimName: "Images_1" },
            },
        ]);
        expect(message).toMatch(
            /existingClaims\.videos: is not a file resource of this stack; allowed: one of shares \(documents, images\)/,
        );
        expect(message).toMatch(
            /existingClaims\.images\.claimName: Images_1 is not valid; allowed: a PersistentVolumeClaim name/,
        );
    });

    it("may not be the claim the stack creates for a managed share", async () => {
        expect(
            await wrong([at("existingClaims"), { images: { namespace: "nas-backup", claimName: "documents" } }]),
        ).toMatch(
            /existingClaims\.images\.claimName: documents is the claim this stack creates for the managed share documents/,
        );
    });

    it("still needs the share size while a file resource is managed", async () => {
        expect(await wrong([at("existingClaims"), imagesClaim], [at("sizeGiB"), undefined])).toMatch(
            /digitalocean\.fileStorage\.sizeGiB: is missing; required: a whole number from 50 to/,
        );
    });
});

/** Values in a stack file that only stand in for real ones: zero digests, unencrypted secrets, documentation addresses. */
const placeholder = /sha256:0{64}|REPLACE-ME|\b(?:192\.0\.2|198\.51\.100|203\.0\.113)\.\d+/;

/** The keys (as README writes them: without the namespace, list indexes and `secure`) holding a placeholder. */
function placeholderKeys(config: Readonly<Record<string, unknown>>): string[] {
    const keys = new Set<string>();
    const walk = (value: unknown, at: string[]): void => {
        if (typeof value === "string" && placeholder.test(value)) keys.add(at.join("."));
        else if (Array.isArray(value)) value.forEach((item) => walk(item, at));
        else if (value !== null && typeof value === "object") {
            for (const [key, child] of Object.entries(value)) walk(child, key === "secure" ? at : [...at, key]);
        }
    };
    for (const [key, value] of Object.entries(config)) walk(value, [key.replace(/^backup-policy:/, "")]);
    return [...keys].sort();
}

/** The keys README.md's "Before the first `pulumi up -s staging`" table names. */
function keysToReplace(): string[] {
    const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
    const start = readme.indexOf("**Before the first `pulumi up -s staging`**");
    const table = readme.slice(start, readme.indexOf("\n\n", readme.indexOf("| key |", start)));
    return table
        .split("\n")
        .filter((line) => line.startsWith("| `"))
        .flatMap((line) => [...line.split("|")[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
}

describe("the placeholders of Pulumi.staging.yaml", () => {
    it("are each named in README.md's list of what to replace before the first pulumi up", () => {
        const listed = keysToReplace();
        expect(listed.length).toBeGreaterThan(0);
        expect(placeholderKeys(file).filter((key) => !listed.includes(key))).toEqual([]);
    });

    it("would be reported at a key the list does not name", () => {
        const changed = configWith("staging", [["backup-policy:digitalocean", "vpc", "ipRange"], "198.51.100.0/24"]);
        expect(placeholderKeys(changed)).toContain("digitalocean.vpc.ipRange");
        expect(keysToReplace()).not.toContain("digitalocean.vpc.ipRange");
    });
});
