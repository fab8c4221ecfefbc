import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { kubePrometheusStack } from "./settings";

/** Where Alertmanager sends the alerts (the NAS backup alerts among them): a person must read them. */
export type AlertReceiver =
    | { readonly kind: "webhook"; readonly url: pulumi.Input<string> }
    | {
          readonly kind: "email";
          readonly to: string;
          readonly from: string;
          /** "host:port" of the SMTP server (STARTTLS required). */
          readonly smarthost: string;
          /** SMTP login, when the server requires one. */
          readonly username?: string;
          /** Secret. */
          readonly password?: pulumi.Input<string>;
      };

export interface ClusterMonitoringArgs {
    readonly provider: k8s.Provider;
    readonly receiver: AlertReceiver;
    /** Chart version (pinned; default in settings.ts). */
    readonly chartVersion: string;
}

const receiverName = "backup-operators";

/** Alertmanager's receiver entry for a configured receiver. */
export function alertmanagerReceiver(receiver: AlertReceiver): pulumi.Output<Record<string, unknown>> {
    if (receiver.kind === "webhook") {
        return pulumi.output(receiver.url).apply((url): Record<string, unknown> => ({
            name: receiverName,
            webhook_configs: [{ url, send_resolved: true }],
        }));
    }
    return pulumi.output(receiver.password).apply((password): Record<string, unknown> => ({
        name: receiverName,
        email_configs: [
            {
                to: receiver.to,
                from: receiver.from,
                smarthost: receiver.smarthost,
                require_tls: true,
                send_resolved: true,
                ...(receiver.username !== undefined ? { auth_username: receiver.username } : {}),
                ...(password !== undefined ? { auth_password: password } : {}),
            },
        ],
    }));
}

/**
 * kube-prometheus-stack (Prometheus, Alertmanager, kube-state-metrics) as a Helm release with a pinned
 * chart version and every alert routed to the configured receiver; the always-firing Watchdog goes
 * nowhere. PrometheusRules are loaded when they carry `release: <releaseName>` (`ruleLabels`).
 */
export class ClusterMonitoring extends pulumi.ComponentResource {
    /** Labels a PrometheusRule needs to be loaded by this Prometheus. */
    public readonly ruleLabels: Readonly<Record<string, string>> = { release: kubePrometheusStack.releaseName };

    constructor(name: string, args: ClusterMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:digitalocean:ClusterMonitoring", name, {}, opts);
        const receiver = alertmanagerReceiver(args.receiver);
        new k8s.helm.v3.Release(
            name,
            {
                name: kubePrometheusStack.releaseName,
                chart: kubePrometheusStack.chart,
                version: args.chartVersion,
                repositoryOpts: { repo: kubePrometheusStack.repository },
                namespace: kubePrometheusStack.namespace,
                createNamespace: true,
                atomic: true,
                values: pulumi.secret(
                    receiver.apply((entry) => ({
                        alertmanager: {
                            config: {
                                route: {
                                    receiver: receiverName,
                                    group_by: ["alertname", "namespace", "cronjob"],
                                    routes: [{ receiver: "null", matchers: ['alertname = "Watchdog"'] }],
                                },
                                receivers: [{ name: "null" }, entry],
                            },
                        },
                    })),
                ),
            },
            { parent: this, provider: args.provider },
        );
        this.registerOutputs({});
    }
}
