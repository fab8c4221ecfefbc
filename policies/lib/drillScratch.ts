/**
 * The drill scratch account of prod/trial (§2.10; components/azure/drillScratch.ts): where the verify
 * and drill jobs restore, beyond a Container Apps replica's 8 GiB. It cannot meet three storage rules
 * (no secure transfer: Azure Files refuses NFS mounts with it; LRS: NFS shares are not geo-redundant;
 * no infrastructure encryption: not offered for FileStorage accounts) and its share is no file
 * resource of the policy (it holds restored copies only, never a backup, so it is neither backed up to
 * the vault nor to the NAS).
 *
 * Those rules exempt an account only when the stack shows what it is, never by a tag or a name (either
 * could be put on any account): a FileStorage account (1) whose shares are all NFS shares, (2) without
 * public network access, whose network rules deny every network (no IP range, no subnet) and that a
 * private endpoint of the stack connects to (its only way in), (3) mounted through an environment storage and only by
 * Container Apps Jobs that run `nas-backup verify` — no SMB storage, no container app, no other job.
 * An account that holds the policy's documents would have to give all of that up to look like one.
 */
import type { PolicyResource } from "@pulumi/policy";
import { ContainerApp } from "@pulumi/azure-native/app/containerApp";
import { Job } from "@pulumi/azure-native/app/job";
import { ManagedEnvironmentsStorage } from "@pulumi/azure-native/app/managedEnvironmentsStorage";
import { PrivateEndpoint } from "@pulumi/azure-native/network/privateEndpoint";
import { FileShare } from "@pulumi/azure-native/storage/fileShare";
import { StorageAccount } from "@pulumi/azure-native/storage/storageAccount";
import { verifySpec } from "../../runner/src/commands/verify";
import { drillScratchAccount } from "../../components/azure/settings";
import { shown, valueAt } from "./read";
import { dependsThrough, label, nameOf, refersTo, sameName } from "./stack";

const accountKeys = ["accountName", "name"];

/** The file shares of an account in this stack. */
export function sharesOf(account: PolicyResource, resources: readonly PolicyResource[]): PolicyResource[] {
    return resources.filter((r) => r.isType(FileShare) && refersTo(r, "accountName", account, accountKeys));
}

/** True when the environment storage mounts this account over NFS (`nfsAzureFile.server` is the account's, public or privatelink name). */
function mountsOverNfs(storage: PolicyResource, account: PolicyResource): boolean {
    const server = valueAt(storage.props, ["properties", "nfsAzureFile", "server"]);
    if (server === undefined) return false;
    if (dependsThrough(storage, "properties", account)) return true;
    const name = nameOf(account, "accountName");
    if (typeof name !== "string") return false;
    return [`${name}.file.core.windows.net`, `${name}.privatelink.file.core.windows.net`].some((n) =>
        sameName(server, n),
    );
}

/** True when the environment storage mounts this account over SMB (`azureFile.accountName`). */
function mountsOverSmb(storage: PolicyResource, account: PolicyResource): boolean {
    const name = valueAt(storage.props, ["properties", "azureFile", "accountName"]);
    if (name === undefined) return false;
    return dependsThrough(storage, "properties", account) || sameName(name, nameOf(account, "accountName"));
}

/** The runner's arguments in a Container Apps Job's first container that runs it (`verify …`), or undefined. */
export function runnerArgsOf(job: PolicyResource): unknown[] | undefined {
    const containers = valueAt(job.props, ["template", "containers"]);
    for (const container of Array.isArray(containers) ? containers : []) {
        const env = valueAt(container, ["env"]);
        const names = (Array.isArray(env) ? env : []).map((v) => valueAt(v, ["name"]));
        if (names.includes("NAS_BACKUP_REPOSITORY_BASE")) {
            const args = valueAt(container, ["args"]);
            return Array.isArray(args) ? args : [];
        }
    }
    return undefined;
}

/** A NAS verify or drill job: a Container Apps Job whose runner runs `nas-backup verify`. */
export function isNasVerifyJob(job: PolicyResource): boolean {
    return job.isType(Job) && runnerArgsOf(job)?.[0] === verifySpec.name;
}

/** Jobs and container apps whose volumes name this environment storage. */
function mountingWorkloads(storage: PolicyResource, resources: readonly PolicyResource[]): PolicyResource[] {
    const storageName = nameOf(storage, "storageName");
    return resources.filter((r) => {
        if (!r.isType(Job) && !r.isType(ContainerApp)) return false;
        const volumes = valueAt(r.props, ["template", "volumes"]);
        return (Array.isArray(volumes) ? volumes : []).some((v) => sameName(valueAt(v, ["storageName"]), storageName));
    });
}

/** True when the private endpoint names this account's id in `privateLinkServiceConnections[].privateLinkServiceId`. */
function connectsById(endpoint: PolicyResource, account: PolicyResource): boolean {
    const connections = valueAt(endpoint.props, ["privateLinkServiceConnections"]);
    return (Array.isArray(connections) ? connections : []).some((c) =>
        sameName(valueAt(c, ["privateLinkServiceId"]), valueAt(account.props, ["id"])),
    );
}

/** Why the account is reachable otherwise than through a private endpoint of the stack (empty: it is not). */
function networkProblems(account: PolicyResource, resources: readonly PolicyResource[]): string[] {
    const problems: string[] = [];
    const access = valueAt(account.props, ["publicNetworkAccess"]);
    if (access !== "Disabled") problems.push(`publicNetworkAccess is ${shown(access)}, not "Disabled"`);
    const rules = valueAt(account.props, ["networkRuleSet"]);
    if (valueAt(rules, ["defaultAction"]) !== "Deny") {
        problems.push(`networkRuleSet.defaultAction is ${shown(valueAt(rules, ["defaultAction"]))}, not "Deny"`);
    }
    const ipRules = valueAt(rules, ["ipRules"]);
    if (Array.isArray(ipRules) && ipRules.length > 0) problems.push("networkRuleSet.ipRules admits IP ranges");
    const vnetRules = valueAt(rules, ["virtualNetworkRules"]);
    if (Array.isArray(vnetRules) && vnetRules.length > 0)
        problems.push("networkRuleSet.virtualNetworkRules admits subnets");
    const endpoints = resources.filter((r) => r.isType(PrivateEndpoint));
    // During preview the account's id is unknown: the engine's dependency tells. By dependency first,
    // so that an unknown id of another endpoint does not hide the one that is linked.
    const connected =
        endpoints.some((e) => dependsThrough(e, "privateLinkServiceConnections", account)) ||
        endpoints.some((e) => connectsById(e, account));
    if (!connected) problems.push("no private endpoint of this stack connects to it");
    return problems;
}

/** Why the account is not mounted only by NAS verify and drill jobs (empty: it is). */
function mountProblems(account: PolicyResource, resources: readonly PolicyResource[]): string[] {
    const storages = resources.filter((r) => r.isType(ManagedEnvironmentsStorage));
    const problems = storages.filter((s) => mountsOverSmb(s, account)).map((s) => `${label(s)} mounts it over SMB`);
    const nfs = storages.filter((s) => mountsOverNfs(s, account));
    if (nfs.length === 0) problems.push("no environment storage mounts it over NFS");
    const workloads = nfs.flatMap((s) => mountingWorkloads(s, resources));
    if (nfs.length > 0 && workloads.length === 0) problems.push("no verify or drill job mounts it");
    for (const workload of workloads.filter((w) => !isNasVerifyJob(w))) {
        problems.push(`${label(workload)} mounts it and is no NAS verify or drill job`);
    }
    return problems;
}

/**
 * Why a storage account is not a drill scratch account, as a stack shows it (empty: it is one). Reads
 * unknown values like every rule: during preview an unknown one makes the rule advisory, not crash.
 */
export function drillScratchProblems(account: PolicyResource, resources: readonly PolicyResource[]): string[] {
    if (!account.isType(StorageAccount)) return [`${label(account)} is no storage account`];
    const kind = valueAt(account.props, ["kind"]);
    if (kind !== drillScratchAccount.kind) return [`kind is ${shown(kind)}, not "${drillScratchAccount.kind}"`];
    const shares = sharesOf(account, resources);
    const problems = shares.length === 0 ? ["it has no file share"] : [];
    for (const share of shares) {
        const protocol = valueAt(share.props, ["enabledProtocols"]);
        if (protocol !== "NFS") problems.push(`${label(share)} is ${shown(protocol)}, not an NFS share`);
    }
    return [...problems, ...networkProblems(account, resources), ...mountProblems(account, resources)];
}

/** True when the storage account is a drill scratch account (see above). */
export function isDrillScratchAccount(account: PolicyResource, resources: readonly PolicyResource[]): boolean {
    return drillScratchProblems(account, resources).length === 0;
}

/** True when the file share belongs to a drill scratch account of the stack. */
export function isDrillScratchShare(share: PolicyResource, resources: readonly PolicyResource[]): boolean {
    const accounts = resources.filter(
        (r) => r.isType(StorageAccount) && refersTo(share, "accountName", r, accountKeys),
    );
    return accounts.length > 0 && accounts.every((a) => isDrillScratchAccount(a, resources));
}

/** The drill scratch accounts an environment storage mounts over NFS. */
export function scratchAccountsMountedBy(
    storage: PolicyResource,
    resources: readonly PolicyResource[],
): PolicyResource[] {
    return resources.filter(
        (r) => r.isType(StorageAccount) && mountsOverNfs(storage, r) && isDrillScratchAccount(r, resources),
    );
}
