/**
 * The NAS backups (§2.5.1.1, §2.5.1.2) dump every PostgreSQL server with the runner image's pg_dump,
 * which refuses servers of a newer major version: a server upgraded past the image silently stops
 * being backed up (every nightly job fails). Azure Flexible Server and DigitalOcean managed
 * PostgreSQL alike.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { DatabaseCluster } from "@pulumi/digitalocean/databaseCluster";
import { Server } from "@pulumi/azure-native/dbforpostgresql/server";
import { backupPolicy } from "../../components/policy";
import { postgresEngine } from "../../components/digitalocean/settings";
import { runnerPgDumpMajorVersion } from "../../components/postgresVersions";
import { observe, shown } from "../lib/read";
import { backupRule, configSchema, settings } from "../lib/rule";

const defaults = { runnerPgDumpMajorVersion };

/** The major version of a version string ("16", "16.4", 16); undefined when there is none. */
export function majorVersion(version: unknown): number | undefined {
    const text = typeof version === "number" ? String(version) : version;
    const match = typeof text === "string" ? /^(\d+)(\.\d+)?$/.exec(text) : null;
    return match ? Number(match[1]) : undefined;
}

export const postgresVersionDumpableByNasRunner = backupRule<ResourceValidationPolicy>(
    [backupPolicy.nas.allDatabasesDumpable],
    {
        name: "postgres-version-dumpable-by-nas-runner",
        description:
            `PostgreSQL server's major version is set and at most ${defaults.runnerPgDumpMajorVersion}, the pg_dump of the NAS backup ` +
            "runner image (runner/Dockerfile PG_MAJOR), which refuses newer servers (version).",
        configSchema: configSchema(defaults, {
            runnerPgDumpMajorVersion: {
                type: "integer",
                minimum: 9,
                description: "Major version of pg_dump in the NAS backup runner image",
            },
        }),
        validateResource: (args, reportViolation) => {
            const isDigitalOceanPostgres = args.isType(DatabaseCluster) && args.props.engine === postgresEngine;
            if (!args.isType(Server) && !isDigitalOceanPostgres) {
                args.notApplicable(
                    "Only PostgreSQL servers (Azure Flexible Server, DigitalOcean database cluster engine pg).",
                );
            }
            const { runnerPgDumpMajorVersion: limit } = settings(args, defaults);
            const version = observe(args, args.props as { version?: unknown }, "version");
            const major = majorVersion(version);
            if (major === undefined) {
                reportViolation(
                    `version is ${shown(version)}; the NAS backup runner can dump PostgreSQL up to ${limit}.`,
                );
            } else if (major > limit) {
                reportViolation(
                    `version is ${shown(version)}; the NAS backup runner's pg_dump ${limit} refuses newer servers: rebuild the runner image with PG_MAJOR=${major} first.`,
                );
            }
        },
    },
);

export const postgresVersionRules = [postgresVersionDumpableByNasRunner];
