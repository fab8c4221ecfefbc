import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import * as random from "@pulumi/random";
import { backupPolicy } from "../policy";
import { workspaceDiagnostics } from "./diagnostics";
import { cannotDeleteLock } from "./lock";
import { PostgresNetwork, PostgresNetworkArgs } from "./postgresNetwork";
import { PostgresMaintenanceWindow } from "./settings";

export interface PostgresServerArgs {
    readonly resourceGroupName: pulumi.Input<string>;
    readonly location: string;
    readonly tags: Record<string, string>;
    /** Server name; also the first label of its FQDN, so globally unique. */
    readonly serverName: string;
    /** PostgreSQL major version ("16", "17", ...). */
    readonly version: string;
    readonly sku: { readonly name: string; readonly tier: string };
    readonly storageSizeGB: number;
    readonly administratorLogin: string;
    /** Zone-redundant high availability (a standby in another zone of the region). */
    readonly zoneRedundantHighAvailability: boolean;
    /** When Azure may patch the server (UTC; validated not to overlap backups and restore drills). */
    readonly maintenanceWindow: PostgresMaintenanceWindow;
    /** One database per service: the main service and each side service (§2.14). */
    readonly databaseNames: readonly string[];
    readonly network: Omit<PostgresNetworkArgs, "resourceGroupName" | "tags" | "serverName">;
    /** Log Analytics workspace that receives the server's logs and metrics (§2.15). */
    readonly logAnalyticsWorkspaceId: pulumi.Input<string>;
}

/**
 * The server parameters, in the order they are set (pure, tested directly): §2.9 encrypted transport
 * with at least the policy's TLS version; §2.15 every connection and disconnection logged.
 */
export function postgresServerParameters(): readonly { readonly name: string; readonly value: string }[] {
    return [
        { name: "require_secure_transport", value: "on" },
        { name: "ssl_min_protocol_version", value: backupPolicy.encryption.databaseMinTls.value },
        { name: "log_connections", value: "on" },
        { name: "log_disconnections", value: "on" },
    ];
}

/** The server's high availability and maintenance window (pure, tested directly). */
export function postgresAvailability(
    args: Pick<PostgresServerArgs, "zoneRedundantHighAvailability" | "maintenanceWindow">,
): Pick<azure.dbforpostgresql.ServerArgs, "highAvailability" | "maintenanceWindow"> {
    const mode = args.zoneRedundantHighAvailability
        ? azure.dbforpostgresql.PostgreSqlFlexibleServerHighAvailabilityMode.ZoneRedundant
        : azure.dbforpostgresql.PostgreSqlFlexibleServerHighAvailabilityMode.Disabled;
    const { dayOfWeek, startHour } = args.maintenanceWindow;
    return {
        highAvailability: { mode },
        maintenanceWindow: { customWindow: "Enabled", dayOfWeek, startHour, startMinute: 0 },
    };
}

/**
 * Creates resources strictly one after another: Azure PostgreSQL Flexible Server refuses a second
 * operation while one runs (`ServerIsBusy`, terraform-provider-azurerm PR #18159).
 */
function oneAfterAnother(first: pulumi.Resource) {
    let previous = first;
    return <R extends pulumi.Resource>(create: (after: pulumi.Resource) => R): R => {
        const created = create(previous);
        previous = created;
        return created;
    };
}

/**
 * Azure Database for PostgreSQL – Flexible Server under the Data Backup Policy (§2.5.1.1): daily
 * backups kept for the policy's retention, geo-redundant, private access only, TLS enforced (§2.9),
 * one database per service (§2.14), logs to Log Analytics (§2.15), protected and locked.
 */
export class PostgresServer extends pulumi.ComponentResource {
    public readonly serverName: pulumi.Output<string>;
    public readonly fqdn: pulumi.Output<string>;
    public readonly databaseNames: pulumi.Output<string[]>;
    public readonly administratorLogin: string;
    /** Secret. */
    public readonly administratorPassword: pulumi.Output<string>;
    /** Its delegated subnet: the VNet's other subnets are created after it (one subnet write per VNet at a time). */
    public readonly subnet: azure.network.Subnet;

    constructor(name: string, args: PostgresServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:PostgresServer", name, {}, opts);
        const network = new PostgresNetwork(
            `${name}-network`,
            {
                ...args.network,
                serverName: args.serverName,
                resourceGroupName: args.resourceGroupName,
                tags: args.tags,
            },
            { parent: this },
        );
        const password = new random.RandomPassword(
            `${name}-admin-password`,
            {
                length: 32,
                special: true,
                overrideSpecial: "!#%*-_=+",
                minUpper: 1,
                minLower: 1,
                minNumeric: 1,
                minSpecial: 1,
            },
            { parent: this },
        );
        const server = this.server(name, args, network, password.result);
        const databases = this.parametersAndDatabases(name, args, server);

        workspaceDiagnostics(
            `${name}-diagnostics`,
            { resourceUri: server.id, workspaceId: args.logAnalyticsWorkspaceId, metricCategories: ["AllMetrics"] },
            this,
        );
        cannotDeleteLock(
            `${name}-lock`,
            server.id,
            `Data Backup Policy ${backupPolicy.version.value} ${backupPolicy.database.geoRedundant.clause}: geo-redundant backups are set at creation; deleting the server deletes them.`,
            this,
        );

        this.serverName = server.name;
        this.fqdn = server.fullyQualifiedDomainName;
        this.databaseNames = pulumi.all(databases.map((database) => database.name));
        this.administratorLogin = args.administratorLogin;
        this.administratorPassword = pulumi.secret(password.result);
        this.subnet = network.subnet;
        this.registerOutputs({
            serverName: this.serverName,
            fqdn: this.fqdn,
            databaseNames: this.databaseNames,
            administratorLogin: this.administratorLogin,
            administratorPassword: this.administratorPassword,
        });
    }

    /** The backed-up server (§2.5.1.1 retention, geo-redundant; private access only). */
    private server(
        name: string,
        args: PostgresServerArgs,
        network: PostgresNetwork,
        password: pulumi.Output<string>,
    ): azure.dbforpostgresql.Server {
        // Protected (and locked below): geoRedundantBackup and the network mode are creation-only;
        // a new server would start without the existing backups.
        return new azure.dbforpostgresql.Server(
            `${name}-server`,
            {
                serverName: args.serverName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                version: args.version,
                sku: { name: args.sku.name, tier: args.sku.tier },
                storage: { storageSizeGB: args.storageSizeGB, autoGrow: azure.dbforpostgresql.StorageAutoGrow.Enabled },
                administratorLogin: args.administratorLogin,
                administratorLoginPassword: password,
                authConfig: {
                    passwordAuth: azure.dbforpostgresql.PasswordBasedAuth.Enabled,
                    activeDirectoryAuth: azure.dbforpostgresql.MicrosoftEntraAuth.Disabled,
                },
                // §2.5.1.1: automated daily full backups, retained 30 days, stored geo-redundantly.
                backup: {
                    backupRetentionDays: backupPolicy.database.retentionDays.value,
                    geoRedundantBackup: azure.dbforpostgresql.GeographicallyRedundantBackup.Enabled,
                },
                network: {
                    delegatedSubnetResourceId: network.subnetId,
                    privateDnsZoneArmResourceId: network.dnsZoneId,
                    publicNetworkAccess: azure.dbforpostgresql.ServerPublicNetworkAccessState.Disabled,
                },
                ...postgresAvailability(args),
                tags: args.tags,
            },
            // The DNS zone must be linked to the VNet before a server with private access is created.
            { parent: this, protect: true, dependsOn: [network.dnsLink] },
        );
    }

    /** The server parameters (§2.9, §2.15), then one database per service (§2.14), one after another. */
    private parametersAndDatabases(
        name: string,
        args: PostgresServerArgs,
        server: azure.dbforpostgresql.Server,
    ): azure.dbforpostgresql.Database[] {
        const next = oneAfterAnother(server);
        for (const { name: parameter, value } of postgresServerParameters()) {
            next(
                (after) =>
                    new azure.dbforpostgresql.Configuration(
                        `${name}-${parameter.replace(/_/g, "-")}`,
                        {
                            configurationName: parameter,
                            resourceGroupName: args.resourceGroupName,
                            serverName: server.name,
                            value,
                            source: "user-override",
                        },
                        { parent: this, dependsOn: [after] },
                    ),
            );
        }
        // §2.14: the main service and every side service get their own database on the backed-up server.
        return args.databaseNames.map((databaseName) =>
            next(
                (after) =>
                    new azure.dbforpostgresql.Database(
                        `${name}-db-${databaseName}`,
                        {
                            databaseName,
                            resourceGroupName: args.resourceGroupName,
                            serverName: server.name,
                            charset: "UTF8",
                            collation: "en_US.utf8",
                        },
                        { parent: this, protect: true, dependsOn: [after] },
                    ),
            ),
        );
    }
}
