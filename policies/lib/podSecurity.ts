/**
 * A checker of the Kubernetes Pod Security Standard **restricted** (which includes baseline), for pod
 * specs as they appear in a CronJob's template. It follows the checks of Kubernetes' own Pod Security
 * admission (k8s.io/pod-security-admission/policy, restricted level, current version): a pod template
 * that fails them is accepted inside a CronJob but every pod it creates is refused, silently.
 *
 * Input is whatever the resource holds (plain values, possibly unknown during preview): every read
 * goes through `valueAt`, nothing is assumed to be set. Returns one message per failed control.
 */
import { valueAt } from "./read";

/** Volume sources the restricted level allows (check restrictedVolumes). */
export const restrictedVolumeSources: readonly string[] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/** The only capability the restricted level lets a container add. */
const addableCapability = "NET_BIND_SERVICE";

/** sysctls the baseline level allows. */
const safeSysctls = new Set([
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
]);

interface NamedContainer {
    readonly path: string;
    readonly container: unknown;
}

function containersOf(podSpec: unknown): NamedContainer[] {
    return (["containers", "initContainers", "ephemeralContainers"] as const).flatMap((field) => {
        const list = valueAt(podSpec, [field]);
        return Array.isArray(list) ? list.map((container, i) => ({ path: `${field}[${i}]`, container })) : [];
    });
}

function hostAccess(pod: unknown): string[] {
    const problems = (["hostNetwork", "hostPID", "hostIPC"] as const)
        .filter((field) => valueAt(pod, [field]) === true)
        .map((field) => `${field} is true; the restricted standard forbids sharing the host's namespaces.`);
    if (valueAt(pod, ["securityContext", "windowsOptions", "hostProcess"]) === true) {
        problems.push("securityContext.windowsOptions.hostProcess is true.");
    }
    const sysctls = valueAt(pod, ["securityContext", "sysctls"]);
    for (const sysctl of Array.isArray(sysctls) ? sysctls : []) {
        const name = valueAt(sysctl, ["name"]);
        if (typeof name !== "string" || !safeSysctls.has(name)) {
            problems.push(`securityContext.sysctls sets ${String(name)}, which is not a safe sysctl.`);
        }
    }
    return problems;
}

function volumes(pod: unknown): string[] {
    const list = valueAt(pod, ["volumes"]);
    return (Array.isArray(list) ? list : []).flatMap((volume, i) => {
        const sources = Object.keys(volume ?? {}).filter((key) => key !== "name");
        const bad = sources.filter((source) => !restrictedVolumeSources.includes(source));
        return bad.length > 0 || sources.length === 0
            ? [
                  `volumes[${i}] (${String(valueAt(volume, ["name"]))}) uses ${bad.join(", ") || "no source"}; allowed: ${restrictedVolumeSources.join(", ")}.`,
              ]
            : [];
    });
}

/** The effective value of a security context field: the container's, else the pod's. */
function effective(pod: unknown, container: unknown, path: readonly string[]): unknown {
    const own = valueAt(container, ["securityContext", ...path]);
    return own !== undefined ? own : valueAt(pod, ["securityContext", ...path]);
}

function containerProblems(pod: unknown, { path, container }: NamedContainer): string[] {
    const at = (field: string) => `${path}.securityContext.${field}`;
    const problems: string[] = [];
    if (valueAt(container, ["securityContext", "privileged"]) === true) problems.push(`${at("privileged")} is true.`);
    if (valueAt(container, ["securityContext", "allowPrivilegeEscalation"]) !== false) {
        problems.push(`${at("allowPrivilegeEscalation")} must be false.`);
    }
    if (effective(pod, container, ["runAsNonRoot"]) !== true) {
        problems.push(`${at("runAsNonRoot")} (or the pod's) must be true.`);
    }
    if (effective(pod, container, ["runAsUser"]) === 0) problems.push(`${at("runAsUser")} (or the pod's) is 0 (root).`);
    const seccomp = effective(pod, container, ["seccompProfile", "type"]);
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
        problems.push(`${at("seccompProfile.type")} (or the pod's) must be RuntimeDefault or Localhost.`);
    }
    const drop = valueAt(container, ["securityContext", "capabilities", "drop"]);
    if (!Array.isArray(drop) || !drop.includes("ALL")) problems.push(`${at("capabilities.drop")} must include ALL.`);
    const add = valueAt(container, ["securityContext", "capabilities", "add"]);
    for (const capability of Array.isArray(add) ? add : []) {
        if (capability !== addableCapability) problems.push(`${at("capabilities.add")} adds ${String(capability)}.`);
    }
    const ports = valueAt(container, ["ports"]);
    for (const port of Array.isArray(ports) ? ports : []) {
        const hostPort = valueAt(port, ["hostPort"]);
        if (hostPort !== undefined && hostPort !== 0)
            problems.push(`${path}.ports sets hostPort ${JSON.stringify(hostPort)}.`);
    }
    const procMount = valueAt(container, ["securityContext", "procMount"]);
    if (procMount !== undefined && procMount !== "Default")
        problems.push(`${at("procMount")} is ${JSON.stringify(procMount)}.`);
    return problems;
}

/** What keeps a pod spec from the restricted standard; empty when it meets it. */
export function restrictedProblems(podSpec: unknown): string[] {
    if (podSpec === undefined || podSpec === null || typeof podSpec !== "object") {
        return ["the pod template's spec is not set."];
    }
    const containers = containersOf(podSpec);
    if (containers.length === 0) return ["the pod template has no containers."];
    return [...hostAccess(podSpec), ...volumes(podSpec), ...containers.flatMap((c) => containerProblems(podSpec, c))];
}
