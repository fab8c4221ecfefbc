import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { nasAlertRules } from "./alerts";
import {
    checkNasBackupArgs,
    type CheckedArgs,
    type NasBackupAlertArgs,
    type NasBackupArgs,
    type NasEndpointArgs,
} from "./args";
import { caKeys, names, targetCronJobs, type CronJobPlan } from "./jobs";
import { networkPolicies } from "./networkPolicies";

export * from "./args";

/** Labels that make the namespace enforce, audit and warn the restricted Pod Security Standard. */
export const restrictedNamespaceLabels: Readonly<Record<string, string>> = Object.freeze({
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
});

/** Where the component's namespaced objects go: their metadata and the options that place them after the namespace. */
interface NamespaceScope {
    readonly namespace: string;
    readonly metadata: (objectName: string) => { name: string; namespace: string };
    readonly opts: pulumi.CustomResourceOptions;
}

function namespaceScope(namespace: string, opts: pulumi.CustomResourceOptions): NamespaceScope {
    return { namespace, metadata: (objectName) => ({ name: objectName, namespace }), opts };
}

/**
 * Daily NAS backups of databases and file resources on Kubernetes (§2.5.1.1, §2.5.1.2): per target
 * a backup, prune, verify and drill CronJob running the runner image (runner/), in a namespace that
 * enforces the restricted Pod Security Standard, behind deny-all NetworkPolicies. The repository key
 * is generated here and exported (`repositoryPassword`, secret): without it no backup can be read.
 */
export class NasBackup extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    /** Secret: the restic repository key. Export it; it is the only way to the backups without the cluster. */
    public readonly repositoryPassword: pulumi.Output<string>;
    /** Names of the CronJobs, per target and operation. */
    public readonly cronJobNames: string[];

    constructor(name: string, args: NasBackupArgs, opts?: pulumi.ComponentResourceOptions) {
        // Checked before anything is registered: wrong arguments stop the program with their error only.
        const checked = checkNasBackupArgs(args);
        super("backup-policy:kubernetes:NasBackup", name, {}, opts);
        const namespaceName = args.namespace ?? "nas-backup";
        const child = { parent: this, provider: args.provider };

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            { metadata: { name: namespaceName, labels: { ...restrictedNamespaceLabels } } },
            child,
        );
        const scope = namespaceScope(namespaceName, { ...child, dependsOn: [namespace] });
        const { metadata, opts: inNamespace } = scope;

        for (const account of [names.backupServiceAccount, names.maintenanceServiceAccount]) {
            new k8s.core.v1.ServiceAccount(
                `${name}-${account}`,
                { metadata: metadata(account), automountServiceAccountToken: false },
                inNamespace,
            );
        }

        const repositoryKey = this.credentials(name, args, checked, scope);

        const plans = checked.targets.flatMap((target) => targetCronJobs(args, checked, target));
        for (const plan of plans) {
            new k8s.batch.v1.CronJob(
                `${name}-${plan.name}`,
                { metadata: { ...metadata(plan.name), ...plan.metadata }, spec: plan.spec },
                inNamespace,
            );
        }
        for (const policy of networkPolicies(args, checked)) {
            new k8s.networking.v1.NetworkPolicy(
                `${name}-netpol-${policy.name}`,
                { metadata: metadata(policy.name), spec: policy.spec },
                inNamespace,
            );
        }

        if (args.alerts?.prometheusRule === true) this.prometheusRule(name, args.alerts, checked, plans, scope);

        this.namespace = namespace.metadata.name;
        this.repositoryPassword = pulumi.secret(repositoryKey.result);
        this.cronJobNames = plans.map((p) => p.name);
        this.registerOutputs({
            namespace: this.namespace,
            repositoryPassword: this.repositoryPassword,
            cronJobNames: this.cronJobNames,
        });
    }

    /**
     * The restic repository key (returned: the stack exports it) and what the jobs read from the
     * namespace: the key, NAS and database credentials as Secrets, the CA certificates as a ConfigMap.
     */
    private credentials(
        name: string,
        args: NasBackupArgs,
        checked: CheckedArgs,
        scope: NamespaceScope,
    ): random.RandomPassword {
        // The repository key encrypts every backup (§2.9); losing it loses them all.
        const repositoryKey = new random.RandomPassword(
            `${name}-repository-key`,
            { length: 48, special: false },
            { parent: this, protect: true },
        );
        const scratchPassword = new random.RandomPassword(
            `${name}-scratch-postgres`,
            { length: 32, special: false },
            { parent: this },
        );
        const secret = (objectName: string, data: Record<string, pulumi.Input<string>>) =>
            new k8s.core.v1.Secret(
                `${name}-${objectName}`,
                {
                    metadata: scope.metadata(objectName),
                    type: "Opaque",
                    stringData: pulumi.secret(pulumi.output(data)),
                },
                scope.opts,
            );
        const credentials = (endpoint: NasEndpointArgs) => ({ user: endpoint.user, password: endpoint.password });
        secret(names.repositoryKeySecret, { password: repositoryKey.result });
        secret(names.appendOnlySecret, credentials(args.nas.appendOnly));
        secret(names.maintenanceSecret, credentials(args.nas.maintenance));
        secret(names.scratchPostgresSecret, { password: scratchPassword.result });
        const caData: Record<string, pulumi.Input<string>> = {};
        if (args.nas.caCertificate !== undefined) caData[caKeys.nas] = args.nas.caCertificate;
        for (const target of checked.targets) {
            if (target.kind === "database") {
                secret(names.databaseSecret(target), { password: target.db.password });
                if (target.db.tls.caCertificate !== undefined)
                    caData[caKeys.database(target)] = target.db.tls.caCertificate;
            }
        }
        if (Object.keys(caData).length > 0) {
            new k8s.core.v1.ConfigMap(
                `${name}-${names.caConfigMap}`,
                { metadata: scope.metadata(names.caConfigMap), data: caData },
                scope.opts,
            );
        }
        return repositoryKey;
    }

    /** The alerts that make a silent NAS backup impossible to miss (§2.8, §2.13.2, §2.15), as a PrometheusRule. */
    private prometheusRule(
        name: string,
        alerts: NasBackupAlertArgs,
        checked: CheckedArgs,
        plans: readonly CronJobPlan[],
        scope: NamespaceScope,
    ): void {
        // kube-prometheus-stack loads only rules carrying its `release` label: alerts.ruleLabels.
        new k8s.apiextensions.CustomResource(
            `${name}-alerts`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PrometheusRule",
                metadata: { ...scope.metadata("nas-backup"), labels: { ...(alerts.ruleLabels ?? {}) } },
                spec: nasAlertRules(
                    scope.namespace,
                    plans,
                    checked.targets.map((t) => t.target),
                    alerts,
                ),
            },
            scope.opts,
        );
    }
}
