/**
 * The restricted Pod Security Standard checker against a compliant pod and known-bad pods, one broken
 * control each (the cases Kubernetes' own pod-security-admission tests cover).
 */
import { describe, expect, it } from "vitest";
import { restrictedProblems } from "../../policies/lib/podSecurity";

type Pod = Record<string, any>;

const compliant = (): Pod => ({
    securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
    initContainers: [
        {
            name: "sidecar",
            restartPolicy: "Always",
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsUser: 999 },
        },
    ],
    containers: [
        {
            name: "main",
            ports: [{ containerPort: 8080 }],
            securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
                readOnlyRootFilesystem: true,
            },
        },
    ],
    volumes: [
        { name: "cache", emptyDir: {} },
        { name: "data", persistentVolumeClaim: { claimName: "documents", readOnly: true } },
        { name: "ca", configMap: { name: "ca" } },
        { name: "key", secret: { secretName: "key" } },
    ],
});

const badPods: [string, (pod: Pod) => void, RegExp][] = [
    [
        "pod runAsNonRoot not set",
        (p) => delete p.securityContext.runAsNonRoot,
        /containers\[0\]\.securityContext\.runAsNonRoot/,
    ],
    ["a container runAsNonRoot false", (p) => (p.containers[0].securityContext.runAsNonRoot = false), /runAsNonRoot/],
    ["runAsUser 0", (p) => (p.initContainers[0].securityContext.runAsUser = 0), /initContainers\[0\].*runAsUser.*root/],
    [
        "allowPrivilegeEscalation not set",
        (p) => delete p.containers[0].securityContext.allowPrivilegeEscalation,
        /allowPrivilegeEscalation must be false/,
    ],
    ["privileged", (p) => (p.containers[0].securityContext.privileged = true), /privileged is true/],
    [
        "capabilities not dropped",
        (p) => delete p.initContainers[0].securityContext.capabilities,
        /capabilities\.drop must include ALL/,
    ],
    ["a capability added", (p) => p.containers[0].securityContext.capabilities.add.push("SYS_ADMIN"), /adds SYS_ADMIN/],
    ["seccomp not set", (p) => delete p.securityContext.seccompProfile, /seccompProfile\.type/],
    [
        "seccomp Unconfined in a container",
        (p) => (p.containers[0].securityContext.seccompProfile = { type: "Unconfined" }),
        /containers\[0\].*seccompProfile/,
    ],
    ["host network", (p) => (p.hostNetwork = true), /hostNetwork is true/],
    ["host PID", (p) => (p.hostPID = true), /hostPID is true/],
    [
        "hostPath volume",
        (p) => p.volumes.push({ name: "host", hostPath: { path: "/" } }),
        /volumes\[4\] \(host\) uses hostPath/,
    ],
    ["inline nfs volume", (p) => p.volumes.push({ name: "share", nfs: { server: "nas", path: "/x" } }), /uses nfs/],
    ["host port", (p) => (p.containers[0].ports[0].hostPort = 8080), /hostPort 8080/],
    ["unsafe sysctl", (p) => (p.securityContext.sysctls = [{ name: "kernel.msgmax", value: "1" }]), /kernel\.msgmax/],
    ["unmasked /proc", (p) => (p.containers[0].securityContext.procMount = "Unmasked"), /procMount/],
    ["Windows host process", (p) => (p.securityContext.windowsOptions = { hostProcess: true }), /hostProcess/],
    ["no securityContext on a container", (p) => delete p.initContainers[0].securityContext, /initContainers\[0\]/],
];

describe("restrictedProblems", () => {
    it("finds nothing wrong with a compliant pod", () => {
        expect(restrictedProblems(compliant())).toEqual([]);
    });

    it.each(badPods)("refuses a pod with %s", (_name, breakIt, message) => {
        const pod = compliant();
        breakIt(pod);
        const problems = restrictedProblems(pod);
        expect(problems.length).toBeGreaterThan(0);
        expect(problems.join("\n")).toMatch(message);
    });

    it("refuses a template without a spec or containers, and never throws on odd values", () => {
        expect(restrictedProblems(undefined)).toEqual(["the pod template's spec is not set."]);
        expect(restrictedProblems({ containers: [] })).toEqual(["the pod template has no containers."]);
        expect(
            restrictedProblems({ containers: [null], volumes: [null], securityContext: "x" }).length,
        ).toBeGreaterThan(0);
    });
});
