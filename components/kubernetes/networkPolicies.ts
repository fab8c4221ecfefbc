/**
 * NetworkPolicies of the NAS namespace (§2.6: only what backups need): everything denied, then
 * DNS for every pod; the append-only NAS endpoint for backup, verify and drill pods; the full-access
 * endpoint for prune pods only; each database for its own backup pods only; the Pushgateway if set.
 * The drills' scratch PostgreSQL listens on the pod's loopback and needs no rule.
 */
import type * as k8s from "@pulumi/kubernetes";
import { portOf, type CheckedArgs, type NasJobArgs } from "./args";
import { podLabelKeys } from "./jobs";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

export interface NetworkPolicyPlan {
    readonly name: string;
    readonly spec: NetworkPolicySpec;
}

const tcp = (port: number) => ({ protocol: "TCP", port });

function egressTo(cidrs: readonly string[], port: number): NetworkPolicySpec["egress"] {
    return [{ to: cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [tcp(port)] }];
}

/** The NAS backup pods carrying these labels as well. */
function pods(labels: Record<string, string>) {
    return { matchLabels: { [podLabelKeys.name]: "nas-backup", ...labels } };
}

export function networkPolicies(args: NasJobArgs, checked: CheckedArgs): NetworkPolicyPlan[] {
    const plans = [...baselinePolicies(args, checked)];
    databasePolicies(checked, plans);
    pushgatewayPolicy(args, plans);
    return plans;
}

/** Everything denied, then DNS for every pod and each NAS endpoint for the pods holding its credentials. */
function baselinePolicies(args: NasJobArgs, checked: CheckedArgs): NetworkPolicyPlan[] {
    return [
        { name: "default-deny", spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
        {
            name: "dns",
            spec: {
                podSelector: pods({}),
                policyTypes: ["Egress"],
                egress: [
                    {
                        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
                        ports: [
                            { protocol: "UDP", port: 53 },
                            { protocol: "TCP", port: 53 },
                        ],
                    },
                ],
            },
        },
        {
            name: "nas-append-only",
            spec: {
                podSelector: pods({ [podLabelKeys.credentials]: "append-only" }),
                policyTypes: ["Egress"],
                egress: egressTo(args.nas.cidrs, portOf(checked.appendOnlyUrl)),
            },
        },
        {
            name: "nas-maintenance",
            spec: {
                podSelector: pods({ [podLabelKeys.credentials]: "maintenance" }),
                policyTypes: ["Egress"],
                egress: egressTo(args.nas.cidrs, portOf(checked.maintenanceUrl)),
            },
        },
    ];
}

/** Each database reachable by its own backup pods only. */
function databasePolicies(checked: CheckedArgs, plans: NetworkPolicyPlan[]): void {
    for (const target of checked.targets) {
        if (target.kind === "database") {
            plans.push({
                name: `database-${target.k8sName}`,
                spec: {
                    podSelector: pods({ [podLabelKeys.operation]: "backup", [podLabelKeys.target]: target.k8sName }),
                    policyTypes: ["Egress"],
                    egress: egressTo(target.db.cidrs, target.db.port),
                },
            });
        }
    }
}

/** The Pushgateway, if one is set, for every NAS pod. */
function pushgatewayPolicy(args: NasJobArgs, plans: NetworkPolicyPlan[]): void {
    const pushgateway = args.alerts?.pushgateway;
    if (pushgateway !== undefined) {
        plans.push({
            name: "pushgateway",
            spec: {
                podSelector: pods({}),
                policyTypes: ["Egress"],
                egress: [
                    {
                        to: [
                            {
                                namespaceSelector: {
                                    matchLabels: { "kubernetes.io/metadata.name": pushgateway.namespace },
                                },
                            },
                        ],
                        ports: [tcp(portOf(new URL(pushgateway.url)))],
                    },
                ],
            },
        });
    }
}
