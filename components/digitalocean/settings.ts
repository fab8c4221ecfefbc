/**
 * DigitalOcean facts that are not policy values: what the DigitalOcean services accept and the
 * defaults this repository chose. The policy's values (region FRA1, retention, ...) are in
 * ../policy.ts; the values here only say how DigitalOcean spells or limits them.
 * Sources: terraform-provider-digitalocean (the engine of @pulumi/digitalocean 4.x), see README.md.
 */

/** Database engine slug of managed PostgreSQL. */
export const postgresEngine = "pg";

/**
 * Trusted-source rule types of a database firewall as the provider validates them
 * (`resource_database_firewall.go`: ip_addr, droplet, k8s, tag, app; the SDK's doc comment says
 * "ipAddr", which the provider rejects). Staging admits its DOKS cluster only.
 */
export const databaseFirewallRuleTypes = Object.freeze({ kubernetesCluster: "k8s", ipAddress: "ip_addr" } as const);

/**
 * The port DigitalOcean managed PostgreSQL listens on (not 5432; also the cluster's `port` output).
 * A constant because the NAS backup NetworkPolicies need it before the cluster exists.
 */
export const managedPostgresPort = 25060;

/**
 * Length of a DOKS maintenance window. The API reports it as `maintenance_policy.duration`
 * ("4h0m0s" / "04:00" in the provider docs); the program cannot read it before the cluster exists,
 * so the overlap check assumes this length.
 */
export const maintenanceWindowHours = 4;

/** Week days of a DOKS / database maintenance window ("any" only for DOKS). */
export const maintenanceDays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
export type MaintenanceDay = (typeof maintenanceDays)[number];

/**
 * Seconds the kubeconfig the program fetches on every run stays valid. Every `pulumi up`/`preview`
 * fetches a fresh one (getKubernetesCluster); `pulumi destroy` and `pulumi refresh` reuse the one in
 * the state, so run `pulumi up` first when the last run is older than this.
 */
export const kubeconfigExpireSeconds = 6 * 60 * 60;

/** DigitalOcean project environments (Project `environment`). */
export const projectEnvironment = "Staging";

/**
 * The NAS backup namespace of staging. The claims of the file resources live there: a pod mounts only
 * claims of its own namespace, so an existing claim given in config must be in this one too.
 */
export const nasBackupNamespace = "nas-backup";

/** Network File Storage: the smallest share (GiB) and the performance tiers. */
export const nfsMinimumSizeGiB = 50;
export const nfsPerformanceTiers = ["standard", "high"] as const;

/** kube-prometheus-stack, pinned (the chart version is part of the reviewed change, never "latest"). */
export const kubePrometheusStack = Object.freeze({
    chart: "kube-prometheus-stack",
    repository: "https://prometheus-community.github.io/helm-charts",
    version: "80.4.1",
    /** Release name; the chart labels what it selects with `release: <name>` (PrometheusRules need it). */
    releaseName: "kube-prometheus-stack",
    namespace: "monitoring",
});
