/**
 * Azure Database for PostgreSQL – Flexible Server (prod/trial databases, §2.5.1.1, §2.6, §2.9).
 * Property names and type tokens are the azure-native 3.x SDK's (`dbforpostgresql.Server`,
 * `dbforpostgresql.Configuration`).
 */
import {
    type PolicyResource,
    type ReportViolation,
    type ResourceValidationPolicy,
    type StackValidationArgs,
    type StackValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import { Configuration } from "@pulumi/azure-native/dbforpostgresql/configuration";
import { Server } from "@pulumi/azure-native/dbforpostgresql/server";
import {
    GeographicallyRedundantBackup,
    ServerPublicNetworkAccessState,
} from "@pulumi/azure-native/types/enums/dbforpostgresql";
import { backupPolicy } from "../../components/policy";
import { observe, record, shown, valueAt } from "../lib/read";
import { backupRule, configSchema, settings } from "../lib/rule";
import { label, nameOf, refersTo } from "../lib/stack";

/** Azure's accepted range for `backup.backupRetentionDays` (a platform limit, not a policy value). */
export const azurePostgresRetentionDays = Object.freeze({ min: 7, max: 35 });

const retentionDefaults = { retentionDays: backupPolicy.database.retentionDays.value };

export const postgresqlBackupRetention = backupRule<ResourceValidationPolicy>(
    [backupPolicy.database.retentionDays, backupPolicy.database.schedule],
    {
        name: "postgresql-backup-retention",
        description:
            `PostgreSQL Flexible Server keeps its automated daily backups exactly ${retentionDefaults.retentionDays} days ` +
            `(backup.backupRetentionDays; Azure accepts ${azurePostgresRetentionDays.min}–${azurePostgresRetentionDays.max}).`,
        configSchema: configSchema(retentionDefaults, {
            retentionDays: {
                type: "integer",
                minimum: azurePostgresRetentionDays.min,
                maximum: azurePostgresRetentionDays.max,
                description: "Days PostgreSQL keeps its backups",
            },
        }),
        validateResource: validateResourceOfType(Server, (server, args, reportViolation) => {
            const { retentionDays } = settings(args, retentionDefaults);
            const days = observe(args, server, "backup", "backupRetentionDays");
            if (days === undefined) {
                reportViolation(
                    `backup.backupRetentionDays is not set (Azure would keep ${azurePostgresRetentionDays.min} days); the policy requires ${retentionDays}.`,
                );
            } else if (days < azurePostgresRetentionDays.min || days > azurePostgresRetentionDays.max) {
                reportViolation(
                    `backup.backupRetentionDays is ${days}, outside Azure's ${azurePostgresRetentionDays.min}–${azurePostgresRetentionDays.max}; the policy requires ${retentionDays}.`,
                );
            } else if (days !== retentionDays) {
                reportViolation(`backup.backupRetentionDays is ${days}; the policy requires ${retentionDays}.`);
            }
        }),
    },
);

export const postgresqlGeoRedundantBackup = backupRule<ResourceValidationPolicy>([backupPolicy.database.geoRedundant], {
    name: "postgresql-geo-redundant-backup",
    description:
        `PostgreSQL Flexible Server stores its backups geo-redundantly (backup.geoRedundantBackup = ${GeographicallyRedundantBackup.Enabled}; ` +
        "Azure only accepts this when the server is created).",
    validateResource: validateResourceOfType(Server, (server, args, reportViolation) => {
        const geo = observe(args, server, "backup", "geoRedundantBackup");
        if (geo !== GeographicallyRedundantBackup.Enabled) {
            reportViolation(
                `backup.geoRedundantBackup is ${shown(geo)}; the policy requires ${GeographicallyRedundantBackup.Enabled}.`,
            );
        }
    }),
});

export const postgresqlPublicNetworkAccessDisabled = backupRule<ResourceValidationPolicy>(
    [backupPolicy.protection.accessRestricted],
    {
        name: "postgresql-public-network-access-disabled",
        description: `PostgreSQL Flexible Server is reachable only privately (network.publicNetworkAccess = ${ServerPublicNetworkAccessState.Disabled}).`,
        validateResource: validateResourceOfType(Server, (server, args, reportViolation) => {
            const access = observe(args, server, "network", "publicNetworkAccess");
            if (access !== ServerPublicNetworkAccessState.Disabled) {
                reportViolation(
                    `network.publicNetworkAccess is ${shown(access)}; the policy requires ${ServerPublicNetworkAccessState.Disabled}.`,
                );
            }
        }),
    },
);

/** The server parameters of a Flexible Server that this stack sets, by server. */
function parametersOf(server: PolicyResource, resources: readonly PolicyResource[]): PolicyResource[] {
    return resources.filter(
        (r) => r.isType(Configuration) && refersTo(r, "serverName", server, ["serverName", "name"]),
    );
}

/**
 * Stack rule body shared by the two TLS rules: every server of the stack must have a
 * `Configuration` named `parameter` whose value passes `acceptable`.
 */
function requireServerParameter(
    args: StackValidationArgs,
    reportViolation: ReportViolation,
    parameter: string,
    expected: string,
    acceptable: (value: string) => boolean,
): void {
    const servers = args.resources.filter((r) => r.isType(Server));
    if (servers.length === 0) {
        args.notApplicable("The stack has no PostgreSQL Flexible Server.");
    }
    for (const server of servers) {
        const matching = parametersOf(server, args.resources).filter((c) => {
            const name = nameOf(c, "configurationName");
            return typeof name === "string" && name.toLowerCase() === parameter;
        });
        if (matching.length === 0) {
            record(args, server.urn, `server parameter ${parameter}`, undefined);
            reportViolation(
                `${label(server)} has no server parameter ${parameter} in this stack; the policy requires ${parameter} = ${expected}.`,
                server.urn,
            );
            continue;
        }
        for (const configuration of matching) {
            const value = valueAt(configuration.props, ["value"]);
            record(args, server.urn, `server parameter ${parameter}`, value);
            if (typeof value !== "string" || !acceptable(value)) {
                reportViolation(
                    `${label(server)}: server parameter ${parameter} is ${shown(value)}; the policy requires ${expected}.`,
                    server.urn,
                );
            }
        }
    }
}

const secureTransportParameter = "require_secure_transport";

export const postgresqlSecureTransportRequired = backupRule<StackValidationPolicy>(
    [backupPolicy.encryption.databaseMinTls],
    {
        name: "postgresql-secure-transport-required",
        description: `Every PostgreSQL Flexible Server of the stack has the server parameter ${secureTransportParameter} = on (no unencrypted connections).`,
        validateStack: (args, reportViolation) =>
            requireServerParameter(
                args,
                reportViolation,
                secureTransportParameter,
                "on",
                (v) => v.toLowerCase() === "on",
            ),
    },
);

/** PostgreSQL's `ssl_min_protocol_version` values, weakest first. */
export const postgresTlsVersions = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
const tlsMinimumParameter = "ssl_min_protocol_version";
const tlsDefaults = { minimumTlsVersion: backupPolicy.encryption.databaseMinTls.value };

export const postgresqlTlsMinimumVersion = backupRule<StackValidationPolicy>([backupPolicy.encryption.databaseMinTls], {
    name: "postgresql-tls-minimum-version",
    description:
        `Every PostgreSQL Flexible Server of the stack has the server parameter ${tlsMinimumParameter} ` +
        `at least ${tlsDefaults.minimumTlsVersion}.`,
    configSchema: configSchema(tlsDefaults, {
        minimumTlsVersion: {
            type: "string",
            enum: [...postgresTlsVersions],
            description: "Weakest TLS version a client may use",
        },
    }),
    validateStack: (args, reportViolation) => {
        const { minimumTlsVersion } = settings(args, tlsDefaults);
        const rank = (v: string) => postgresTlsVersions.findIndex((t) => t.toLowerCase() === v.toLowerCase());
        requireServerParameter(
            args,
            reportViolation,
            tlsMinimumParameter,
            minimumTlsVersion,
            (v) => rank(v) >= 0 && rank(v) >= rank(minimumTlsVersion),
        );
    },
});

export const postgresqlRules = [
    postgresqlBackupRetention,
    postgresqlGeoRedundantBackup,
    postgresqlPublicNetworkAccessDisabled,
    postgresqlSecureTransportRequired,
    postgresqlTlsMinimumVersion,
];
