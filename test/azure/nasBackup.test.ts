/**
 * prod and trial under mocks: the NAS backup Container Apps Jobs (§2.5.1.1) — an internal environment
 * in its own delegated subnet, the shares mounted read-only, four jobs per database and share, the
 * declaration on the backup job only, UTC schedules once per Berlin day, bounded runs, secrets only
 * by reference, verified TLS to the database, https to the NAS, alerts through the action group; every
 * verify and drill restores onto its own directory of the NFS drill scratch share (§2.10).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { containerAppsJobBounds, firesOncePerBerlinDay, utcNasSchedules } from "../../components/azure/nasJobSchedule";
import { scratchDirectoryScript } from "../../components/azure/nasBackupJobs";
import { defaultDrillScratchQuotaGiB, drillScratchAccountArgs } from "../../components/azure/drillScratch";
import { runnerUser } from "../../components/kubernetes/pods";
import { failedExecutionLog, nasJobFailureQuery } from "../../components/azure/nasBackupAlerts";
import { postgresRootCaBundle } from "../../components/azure/postgresCa";
import { readNasBackupTags } from "../../components/kubernetes/nasBackupContract";
import { backupPolicy } from "../../components/policy";
import {
    mockStorageAccountKey,
    type OfflineRun,
    readStackFile,
    resourcesOfType,
    runStackOffline,
} from "../../stacks/offline";
import { input, only } from "../support/resources";

const T = {
    job: "azure-native:app:Job",
    environment: "azure-native:app:ManagedEnvironment",
    storage: "azure-native:app:ManagedEnvironmentsStorage",
    subnet: "azure-native:network:Subnet",
    diagnostics: "azure-native:monitor:DiagnosticSetting",
    workspace: "azure-native:operationalinsights:Workspace",
    rule: "azure-native:monitor:ScheduledQueryRule",
    actionGroup: "azure-native:monitor:ActionGroup",
    password: "random:index/randomPassword:RandomPassword",
    server: "azure-native:dbforpostgresql:Server",
    account: "azure-native:storage:StorageAccount",
    share: "azure-native:storage:FileShare",
    fileService: "azure-native:storage:FileServiceProperties",
    virtualNetwork: "azure-native:network:VirtualNetwork",
    privateEndpoint: "azure-native:network:PrivateEndpoint",
    zone: "azure-native:privatedns:PrivateZone",
    zoneLink: "azure-native:privatedns:VirtualNetworkLink",
    zoneGroup: "azure-native:network:PrivateDnsZoneGroup",
} as const;

interface Env {
    name: string;
    value?: string;
    secretRef?: string;
}
interface Container {
    name?: string;
    image?: string;
    command: string[];
    args: string[];
    env: Env[];
    resources: { cpu: number; memory: string };
    volumeMounts?: { volumeName: string; mountPath: string; subPath?: string }[];
}
interface JobInputs {
    jobName: string;
    configuration: {
        triggerType: string;
        replicaTimeout: number;
        replicaRetryLimit: number;
        scheduleTriggerConfig: { cronExpression: string };
        secrets: { name: string; value: string }[];
    };
    template: {
        containers: Container[];
        initContainers?: Container[];
        volumes?: {
            name: string;
            storageType: string;
            storageName?: string;
            secrets?: { secretRef: string; path: string }[];
        }[];
    };
    tags: Record<string, string>;
}

/** The scheduled jobs (the manual `nas-status` job is tested on its own). */
const jobs = (run: OfflineRun) =>
    resourcesOfType(run, T.job)
        .map((job) => job.inputs as unknown as JobInputs)
        .filter((job) => job.jobName !== "nas-status");
const job = (run: OfflineRun, name: string): JobInputs => {
    const found = jobs(run).find((j) => j.jobName === name);
    if (found === undefined) throw new Error(`no job ${name}`);
    return found;
};
/** The names of all NAS jobs of the stack, the manual `nas-status` job included. */
const allJobNames = (run: OfflineRun) => resourcesOfType(run, T.job).map((j) => String(j.inputs.jobName));
const env = (j: JobInputs) => Object.fromEntries(j.template.containers[0].env.map((e) => [e.name, e]));
const secretValue = (j: JobInputs, ref: string) => j.configuration.secrets.find((s) => s.name === ref)?.value;

describe.each(["prod", "trial"])("stack %s: NAS backup jobs", (stack) => {
    const config = readStackFile(stack).config;
    const databases = Object.values(config["backup-policy:databases"] as Record<string, string>);
    const shares = config["backup-policy:shares"] as string[];
    const network = (config["backup-policy:azure"] as { network: { containerAppsSubnet: string } }).network;
    const nas = config["backup-policy:nasBackup"] as {
        dailyBackupTimeUtc: string;
        drillScratch: { accountName: string; initImage: string; quotaGiB?: number; endpointSubnetPrefix: string };
    };
    const azureConfig = config["backup-policy:azure"] as {
        postgres: { storageSizeGB?: number };
        storage: { shareQuotaGiB: number };
    };
    let run: OfflineRun;

    beforeAll(async () => {
        run = await runStackOffline({ stack });
        expect(run.error).toBeUndefined();
    }, 120_000);

    it("runs them in an internal workload-profiles environment in its own delegated subnet, logging to the workspace", () => {
        const environment = only(run, T.environment);
        const [subnet] = resourcesOfType(run, T.subnet).filter((s) => s.name === "nas-subnet");
        expect(input(subnet, "addressPrefix")).toBe(network.containerAppsSubnet);
        expect(input(subnet, "delegations")).toEqual([
            { name: "container-apps-environment", serviceName: "Microsoft.App/environments" },
        ]);
        expect(input(environment, "vnetConfiguration")).toEqual({ infrastructureSubnetId: subnet.id, internal: true });
        // No service endpoint: the scratch share is reached through its private endpoint.
        expect(input(subnet, "serviceEndpoints")).toBeUndefined();
        expect(input(environment, "workloadProfiles")).toEqual([
            { name: "Consumption", workloadProfileType: "Consumption" },
        ]);
        const diagnostics = resourcesOfType(run, T.diagnostics).find((d) => d.inputs.resourceUri === environment.id);
        expect(diagnostics?.inputs.workspaceId).toBe(only(run, T.workspace).id);
        expect(diagnostics?.inputs.logs).toContainEqual({ category: "ContainerAppConsoleLogs", enabled: true });
        for (const j of resourcesOfType(run, T.job)) {
            expect(j.inputs.environmentId).toBe(environment.id);
        }
    });

    it("mounts every share read-only through the environment, the account key only as a secret", () => {
        const storages = resourcesOfType(run, T.storage).filter((s) => input(s, "properties.azureFile") !== undefined);
        expect(storages.map((s) => input(s, "properties.azureFile.shareName")).sort()).toEqual([...shares].sort());
        for (const storage of storages) {
            expect(input(storage, "properties.azureFile.accessMode")).toBe("ReadOnly");
            expect(storage.secretInputs).toContain("properties");
        }
    });

    it("has a backup, prune, verify and drill job for every database and every share", () => {
        const names = jobs(run).map((j) => j.jobName);
        for (const target of [...databases, ...shares]) {
            for (const operation of ["backup", "prune", "verify", "drill"]) {
                expect(names).toContain(`${operation}-${target}`);
            }
        }
        expect(names).toHaveLength(4 * (databases.length + shares.length));
    });

    it("declares the policy's retention on each backup job only, naming its database or share", () => {
        const declared = jobs(run).flatMap((j) => {
            const declaration = readNasBackupTags(j.tags);
            return declaration === undefined ? [] : [{ job: j.jobName, ...declaration }];
        });
        const expected = [
            ...databases.map((name) => ({ job: `backup-${name}`, kind: "database", name })),
            ...shares.map((name) => ({ job: `backup-${name}`, kind: "file-share", name })),
        ];
        expect(declared.map(({ job, kind, name }) => ({ job, kind, name }))).toEqual(expected);
        for (const d of declared) {
            expect(d.dailyRetentionDays).toBe(backupPolicy.nas.dailyRetentionDays.value);
            expect(d.monthlyRetentionMonths).toBe(backupPolicy.nas.monthlyRetentionMonths.value);
            expect(d.monthlyAnchorDayOfMonth).toBe(backupPolicy.nas.monthlyAnchorDayOfMonth.value);
        }
    });

    it("backs up once in every Berlin day at the configured UTC time, every run bounded", () => {
        const [hour, minute] = nas.dailyBackupTimeUtc.split(":").map(Number);
        const schedules = utcNasSchedules({ hour, minute });
        for (const j of jobs(run)) {
            const operation = j.jobName.split("-")[0] as keyof typeof schedules;
            expect(j.configuration.triggerType).toBe("Schedule");
            expect(j.configuration.scheduleTriggerConfig.cronExpression).toBe(schedules[operation]);
            expect(j.configuration.replicaTimeout).toBe(containerAppsJobBounds[operation].replicaTimeout);
            expect(j.configuration.replicaRetryLimit).toBe(containerAppsJobBounds[operation].replicaRetryLimit);
            expect(j.configuration.replicaTimeout * (j.configuration.replicaRetryLimit + 1)).toBeLessThan(24 * 3600);
        }
        for (const target of [...databases, ...shares]) {
            expect(
                firesOncePerBerlinDay(job(run, `backup-${target}`).configuration.scheduleTriggerConfig.cronExpression),
            ).toBe(true);
        }
    });

    it("dumps each database with nas-backup backup over TLS verified against Flexible Server's root CAs", () => {
        const server = only(run, T.server);
        for (const database of databases) {
            const j = job(run, `backup-${database}`);
            const container = j.template.containers[0];
            expect(container.command).toEqual(["nas-backup"]);
            expect(container.args).toEqual(["backup", "--target", database, "--database", database]);
            const e = env(j);
            expect(e.PGHOST.value).toBe(server.outputs.fullyQualifiedDomainName);
            expect(e.PGSSLMODE.value).toBe("verify-full");
            expect(e.PGPASSWORD).toEqual({ name: "PGPASSWORD", secretRef: "database-password" });
            expect(e.NAS_BACKUP_REPOSITORY_BASE.value).toMatch(/^rest:https:\/\//);
            const ca = j.template.volumes?.find((v) => v.storageType === "Secret");
            const mount = container.volumeMounts?.find((m) => m.volumeName === ca?.name);
            const file = ca?.secrets?.find((s) => `${mount?.mountPath}/${s.path}` === e.PGSSLROOTCERT.value);
            expect(file).toBeDefined();
            expect(secretValue(j, file?.secretRef ?? "")).toBe(postgresRootCaBundle);
        }
    });

    it("reads each share from its read-only mount", () => {
        for (const share of shares) {
            const j = job(run, `backup-${share}`);
            const data = j.template.volumes?.find((v) => v.storageType === "AzureFile");
            expect(data?.storageName).toBe(share);
            const mount = j.template.containers[0].volumeMounts?.find((m) => m.volumeName === data?.name);
            expect(j.template.containers[0].args).toEqual([
                "backup",
                "--target",
                share,
                "--directory",
                mount?.mountPath,
            ]);
        }
    });

    it("prunes with the maintenance credentials only; backups never get them", () => {
        for (const target of [...databases, ...shares]) {
            const prune = env(job(run, `prune-${target}`));
            expect(prune.NAS_BACKUP_MAINTENANCE_PASSWORD?.secretRef).toBeDefined();
            expect(env(job(run, `backup-${target}`)).NAS_BACKUP_MAINTENANCE_PASSWORD).toBeUndefined();
            expect(secretValue(job(run, `backup-${target}`), "nas-user")).toMatch(/-backup$/);
            expect(secretValue(job(run, `prune-${target}`), "nas-user")).toMatch(/-maintenance$/);
        }
    });

    it("drills monthly reading all data, the database into a scratch server the runner's container starts", () => {
        for (const database of databases) {
            const drill = job(run, `drill-${database}`).template.containers[0];
            expect(drill.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
            expect(drill.args.slice(0, 5)).toEqual(["verify", "--target", database, "--read-data-subset", "100%"]);
            expect(job(run, `drill-${database}`).template.containers).toHaveLength(1);
        }
        for (const share of shares) {
            expect(job(run, `drill-${share}`).template.containers[0].args).toContain("--scratch-directory");
        }
    });

    it("creates the drill scratch share: an NFS share in a premium FileStorage account reached by its private endpoint only", () => {
        const accounts = resourcesOfType(run, T.account).filter((a) => a.inputs.kind === "FileStorage");
        expect(accounts).toHaveLength(1);
        const [account] = accounts;
        expect(account.inputs.accountName).toBe(nas.drillScratch.accountName);
        expect(account.inputs.sku).toEqual({ name: "Premium_LRS" });
        expect(account.inputs.enableHttpsTrafficOnly).toBe(false);
        expect(account.inputs.allowSharedKeyAccess).toBe(false);
        expect(account.inputs.minimumTlsVersion).toBe(backupPolicy.encryption.storageMinTls.value);
        expect(account.inputs.publicNetworkAccess).toBe("Disabled");
        expect(account.inputs.networkRuleSet).toEqual({
            defaultAction: "Deny",
            bypass: "None",
            ipRules: [],
            virtualNetworkRules: [],
        });
        expect(account.options.protect).toBe(true);
        const shareResources = resourcesOfType(run, T.share).filter(
            (s) => s.inputs.accountName === account.outputs.name,
        );
        expect(shareResources).toHaveLength(1);
        const [share] = shareResources;
        expect(share.inputs).toMatchObject({
            shareName: "drill-scratch",
            enabledProtocols: "NFS",
            rootSquash: "NoRootSquash",
        });
        expect(share.options.protect).toBe(true);
        // The default quota holds every restore at once: the server's storage, each database's WAL, every share.
        const storageSizeGB = azureConfig.postgres.storageSizeGB ?? 128;
        const expected = storageSizeGB + databases.length + shares.length * azureConfig.storage.shareQuotaGiB;
        expect(share.inputs.shareQuota).toBe(nas.drillScratch.quotaGiB ?? expected);
        const service = resourcesOfType(run, T.fileService).find((f) => f.inputs.accountName === account.outputs.name);
        expect(input(service!, "shareDeleteRetentionPolicy.enabled")).toBe(true);
        const storage = resourcesOfType(run, T.storage).find((s) => s.inputs.storageName === "drill-scratch");
        const accountName = String(account.outputs.name);
        expect(input(storage!, "properties")).toEqual({
            nfsAzureFile: {
                server: `${accountName}.privatelink.file.core.windows.net`,
                shareName: `/${accountName}/drill-scratch`,
                accessMode: "ReadWrite",
            },
        });
        expect(storage!.inputs.environmentName).toBe(only(run, T.environment).outputs.name);
        // Everything of it lives under one component, itself under the NAS backup component.
        const component = run.resources.find((r) => r.type === "backup-policy:azure:DrillScratch");
        expect(component?.urn).toMatch(
            /::backup-policy:azure:NasBackup\$backup-policy:azure:DrillScratch::nas-drill-scratch$/,
        );
        for (const r of [account, share, storage!]) expect(r.urn).toContain("::backup-policy:azure:DrillScratch$");
    });

    it("reaches the scratch account through a private endpoint in its own subnet, its name resolved by a linked private zone", () => {
        const account = resourcesOfType(run, T.account).find((a) => a.inputs.kind === "FileStorage")!;
        const [subnet] = resourcesOfType(run, T.subnet).filter((s) => s.name === "nas-drill-scratch-endpoint-subnet");
        expect(input(subnet, "addressPrefix")).toBe(nas.drillScratch.endpointSubnetPrefix);
        expect(input(subnet, "virtualNetworkName")).toBe(only(run, T.virtualNetwork).outputs.name);
        const endpoint = only(run, T.privateEndpoint);
        expect(input(endpoint, "subnet.id")).toBe(subnet.id);
        expect(input(endpoint, "privateLinkServiceConnections")).toEqual([
            { name: "file", privateLinkServiceId: account.id, groupIds: ["file"] },
        ]);
        const zones = resourcesOfType(run, T.zone).filter(
            (z) => z.inputs.privateZoneName === "privatelink.file.core.windows.net",
        );
        expect(zones).toHaveLength(1);
        expect(zones[0].inputs.location).toBe("global");
        const link = resourcesOfType(run, T.zoneLink).find((l) => l.inputs.privateZoneName === zones[0].outputs.name);
        expect(input(link!, "virtualNetwork.id")).toBe(only(run, T.virtualNetwork).id);
        expect(link!.inputs.registrationEnabled).toBe(false);
        const group = only(run, T.zoneGroup);
        expect(group.inputs.privateEndpointName).toBe(endpoint.outputs.name);
        expect(input(group, "privateDnsZoneConfigs")).toEqual([{ name: "file", privateDnsZoneId: zones[0].id }]);
        // The environment storage is created once the endpoint's A record is managed in the linked zone.
        const storage = resourcesOfType(run, T.storage).find((s) => s.inputs.storageName === "drill-scratch")!;
        expect(storage.options.dependsOn).toContain(group.urn);
        for (const r of [subnet, endpoint, zones[0], link!, group]) {
            expect(r.urn).toContain("::backup-policy:azure:DrillScratch$");
        }
    });

    it("has every verify and drill restore onto its own directory of the scratch share, made for the runner by a root init container", () => {
        for (const target of [...databases, ...shares]) {
            for (const operation of ["verify", "drill"]) {
                const name = `${operation}-${target}`;
                const inputs = job(run, name);
                const container = inputs.template.containers[0];
                const option = (flag: string) => container.args[container.args.indexOf(flag) + 1];
                expect(option("--scratch-directory"), name).toBe("/scratch");
                const mount = container.volumeMounts?.find((m) => m.mountPath === "/scratch");
                expect(mount?.subPath, name).toBe(name);
                const volume = inputs.template.volumes?.find((v) => v.name === mount?.volumeName);
                expect(volume).toEqual({
                    name: "scratch",
                    storageType: "NfsAzureFile",
                    storageName: "drill-scratch",
                    mountOptions: "vers=4.1",
                });
                expect(inputs.template.volumes?.some((v) => v.storageType === "EmptyDir")).toBe(false);
                // statfs of the share counts now (its quota); the hint names the key that raises it.
                expect(container.args).not.toContain("--scratch-limit");
                expect(option("--scratch-hint")).toMatch(
                    /^raise nasBackup\.drillScratch\.quotaGiB in Pulumi\.<stack>\.yaml/,
                );
                const [init, ...more] = inputs.template.initContainers ?? [];
                expect(more).toEqual([]);
                expect(init.image).toBe(nas.drillScratch.initImage);
                expect(init.command).toEqual(["/bin/sh", "-c", scratchDirectoryScript, "scratch-directory"]);
                expect(init.args).toEqual([`/scratch/${name}`, String(runnerUser), String(runnerUser)]);
                expect(init.volumeMounts).toEqual([{ volumeName: "scratch", mountPath: "/scratch" }]);
            }
        }
        for (const j of jobs(run).filter((j) => /^(backup|prune)-/.test(j.jobName))) {
            expect(j.template.initContainers, j.jobName).toBeUndefined();
        }
    });

    it("keeps every secret out of plain text: job secrets referenced by secretRef, marked secret", () => {
        const secretNames = /PASSWORD|_USER$/;
        const secrets = [
            ...resourcesOfType(run, T.password).map((p) => p.outputs.result as string),
            mockStorageAccountKey(
                String(
                    config["backup-policy:azure"] &&
                        (config["backup-policy:azure"] as { storage: { accountName: string } }).storage.accountName,
                ),
            ),
            `[secret placeholder: backup-policy:nasBackup]`,
        ];
        for (const j of resourcesOfType(run, T.job)) {
            const inputs = j.inputs as unknown as JobInputs;
            for (const e of inputs.template.containers[0].env) {
                if (secretNames.test(e.name)) expect(e.value, `${inputs.jobName} ${e.name}`).toBeUndefined();
            }
            expect(j.secretInputs).toContain("configuration");
        }
        for (const resource of run.resources) {
            const open = Object.entries(resource.inputs).filter(([name]) => !resource.secretInputs.includes(name));
            for (const secret of secrets) {
                expect(JSON.stringify(open), resource.name).not.toContain(secret);
            }
        }
    });

    it("has a manual nas-status job that tests the way to the NAS with the backup credentials, read-only", () => {
        const status = resourcesOfType(run, T.job).find((j) => j.inputs.jobName === "nas-status");
        const inputs = status?.inputs as unknown as JobInputs & { configuration: { triggerType: string } };
        expect(inputs.configuration.triggerType).toBe("Manual");
        expect(inputs.template.containers[0].args).toEqual([
            "status",
            ...[...databases, ...shares].flatMap((target) => ["--target", target]),
        ]);
        expect(secretValue(inputs, "nas-user")).toMatch(/-backup$/);
        expect(readNasBackupTags(inputs.tags)).toBeUndefined();
    });

    it("exports the repository key from @pulumi/random as a secret, protected", () => {
        const key = resourcesOfType(run, T.password).find((p) => p.name === "nas-repository-key");
        expect(key?.options.protect).toBe(true);
        expect(run.secretOutputs).toContain("nasBackupRepositoryPassword");
        expect(run.outputs.nasBackupRepositoryPassword).toBe(key?.outputs.result);
    });

    it("alerts the action group on a target without a backup for 26 h and on any failed run or drill", () => {
        const rules = resourcesOfType(run, T.rule).filter((r) => String(r.inputs.ruleName).startsWith("nas-backup-"));
        expect(rules.map((r) => r.inputs.ruleName).sort()).toEqual(
            ["failures", "job-failures", "stale"].map((n) => `nas-backup-${stack}-${n}`),
        );
        const group = only(run, T.actionGroup);
        for (const rule of rules) {
            expect(input(rule, "actions.actionGroups")).toEqual([group.id]);
            expect(input(rule, "scopes")).toEqual([only(run, T.workspace).id]);
        }
        const queries = rules
            .filter((r) => r.inputs.ruleName !== `nas-backup-${stack}-job-failures`)
            .map((r) => String(input(r, "criteria.allOf.0.query")));
        expect(queries.join("\n")).toContain(`ago(${backupPolicy.rpoHours.value + 2}h)`);
        for (const target of [...databases, ...shares]) {
            for (const query of queries) expect(query).toContain(JSON.stringify(target));
        }
    });

    it("alerts the action group on a failed execution of every NAS job, also one that logged nothing", () => {
        const rule = resourcesOfType(run, T.rule).find((r) => r.inputs.ruleName === `nas-backup-${stack}-job-failures`);
        if (rule === undefined) throw new Error("no job-failure alert");
        expect(input(rule, "enabled")).toBe(true);
        expect(input(rule, "actions.actionGroups")).toEqual([only(run, T.actionGroup).id]);
        expect(input(rule, "scopes")).toEqual([only(run, T.workspace).id]);
        const query = String(input(rule, "criteria.allOf.0.query"));
        expect(query).toBe(nasJobFailureQuery(allJobNames(run)));
        // every job of the stack, the manual nas-status job included: 4 per target + 1
        expect(allJobNames(run)).toHaveLength(4 * (databases.length + shares.length) + 1);
        for (const name of allJobNames(run)) expect(query).toContain(JSON.stringify(name));
        expect(query).toMatch(/^ContainerAppSystemLogs$/m);
        expect(query).toContain(`Log contains "${failedExecutionLog}"`);
        expect(input(rule, "criteria.allOf.0.dimensions.0.name")).toBe("Job");
        // the system logs reach the workspace the rule reads
        const categories = JSON.stringify(resourcesOfType(run, T.diagnostics).map((d) => d.inputs.logs));
        expect(categories).toContain("ContainerAppSystemLogs");
    });
});

describe("the drill scratch share's parts", () => {
    it("sizes the default quota for every restore at once, within the premium limits", () => {
        const sizing = { databaseServerGB: 256, databases: 3, shares: 2, shareQuotaGiB: 2048 };
        expect(defaultDrillScratchQuotaGiB(sizing)).toBe(256 + 3 + 2 * 2048);
        expect(defaultDrillScratchQuotaGiB({ ...sizing, databaseServerGB: 32, shareQuotaGiB: 1 })).toBe(100);
        expect(defaultDrillScratchQuotaGiB({ ...sizing, shareQuotaGiB: 60_000 })).toBe(102_400);
    });

    it("gives the account no public network access and no network rule, no secure transfer (NFS), no shared key", () => {
        const args = drillScratchAccountArgs({
            resourceGroupName: "rg",
            location: "northeurope",
            tags: {},
            accountName: "stscratch",
            quotaGiB: 100,
            network: { virtualNetworkName: "vnet", virtualNetworkId: "/vnet", endpointSubnetPrefix: "10.0.3.0/28" },
            environmentName: "cae",
        });
        expect(args).toMatchObject({
            kind: "FileStorage",
            enableHttpsTrafficOnly: false,
            allowBlobPublicAccess: false,
            publicNetworkAccess: "Disabled",
        });
        expect(args.networkRuleSet).toMatchObject({ defaultAction: "Deny", ipRules: [], virtualNetworkRules: [] });
    });

    it("has the init container make the job's directory empty, owned by the runner, mode 0700", () => {
        const share = mkdtempSync(join(tmpdir(), "scratch-share-"));
        const dir = join(share, "drill-shop");
        mkdirSync(join(dir, "pgdata"), { recursive: true });
        writeFileSync(join(dir, "pgdata", "PG_VERSION"), "16");
        const [uid, gid] = [process.getuid?.() ?? 0, process.getgid?.() ?? 0];
        const run = spawnSync(
            "/bin/sh",
            ["-c", scratchDirectoryScript, "scratch-directory", dir, String(uid), String(gid)],
            {
                encoding: "utf8",
            },
        );
        expect(run.status, run.stderr).toBe(0);
        expect(readdirSync(dir)).toEqual([]);
        expect(statSync(dir).mode & 0o7777).toBe(0o700);
        expect([statSync(dir).uid, statSync(dir).gid]).toEqual([uid, gid]);
        rmSync(share, { recursive: true, force: true });
    });
});
