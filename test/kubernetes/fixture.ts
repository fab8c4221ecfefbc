/**
 * A NAS backup component under mocks: two databases (DigitalOcean-like: TLS with a CA, port 25060)
 * and two file resources, as a stack would wire it.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NasBackup, type NasBackupArgs, type NasJobArgs } from "../../components/kubernetes/nasBackup";
import { runStackOffline, type OfflineRun } from "../../stacks/offline";

export const digest = `sha256:${"a".repeat(64)}`;

/** Values that are secret: none of them may appear outside a Secret. */
export const secretValues = {
    appendOnlyPassword: "append-only-password-9f2c",
    maintenancePassword: "maintenance-password-41d7",
    databasePassword: (name: string) => `db-password-${name}-77aa`,
};

export const caPem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

export function exampleArgs(provider: k8s.Provider): NasBackupArgs {
    return { provider, ...exampleJobArgs() };
}

/** The example without a provider: what the pure builders (components/kubernetes/jobs.ts) take. */
export function exampleJobArgs(): NasJobArgs {
    const database = (name: string) => ({
        name,
        host: "private-db-postgresql-fra1-1.b.db.ondigitalocean.com",
        port: 25060,
        role: "doadmin",
        password: pulumi.secret(secretValues.databasePassword(name)),
        tls: { mode: "verify-full" as const, caCertificate: caPem },
        cidrs: ["10.110.0.0/20"],
    });
    return {
        image: `ghcr.io/it-manufactory/nas-backup@${digest}`,
        scratchPostgresImage: `docker.io/library/postgres@${digest}`,
        nas: {
            appendOnly: {
                repositoryBase: "rest:https://nas.it-manufactory.example:8000/staging/",
                user: "backup",
                password: pulumi.secret(secretValues.appendOnlyPassword),
            },
            maintenance: {
                repositoryBase: "rest:https://nas.it-manufactory.example:8001/staging/",
                user: "maintenance",
                password: pulumi.secret(secretValues.maintenancePassword),
            },
            caCertificate: caPem,
            cidrs: ["192.0.2.10/32"],
        },
        databases: [database("main"), database("auth")],
        fileResources: [
            { name: "documents", claimName: "documents" },
            { name: "images", claimName: "images" },
        ],
        dailyBackupTime: "00:30",
        alerts: { prometheusRule: true, ruleLabels: { release: "kube-prometheus-stack" } },
    };
}

/** Runs a program building the component under mocks; `patch` changes the example's arguments. */
export function runNasBackup(patch: (args: NasBackupArgs) => NasBackupArgs = (a) => a): Promise<OfflineRun> {
    return runStackOffline({
        stack: "staging",
        program: () => {
            const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
            const nas = new NasBackup("nas", patch(exampleArgs(provider)));
            return { nasBackupRepositoryPassword: nas.repositoryPassword };
        },
    });
}
