import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import * as random from "@pulumi/random";
import { backupPolicy } from "../policy";
import { postgresPrivateDnsZoneSuffix, postgresSubnetDelegation } from "./settings";

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
    /** One database per service: the main service and each side service (§2.14). */
    readonly databaseNames: readonly string[];
    /** The stack's virtual network and the address prefix (CIDR) of the server's delegated subnet. */
    readonly network: {
        readonly virtualNetworkName: pulumi.Input<string>;
        readonly virtualNetworkId: pulumi.Input<string>;
        readonly subnetName: string;
        readonly subnetPrefix: string;
    };
    /** Log Analytics workspace that receives the server's logs and metrics (§2.15). */
    readonly logAnalyticsWorkspaceId: pulumi.Input<string>;
}

/**
 * Azure Database for PostgreSQL – Flexible Server under the Data Backup Policy (§2.5.1.1):
 * automated daily full backups kept for the policy's retention and stored geo-redundantly,
 * reachable only through the private network, TLS enforced (§2.9), one database per service
 * (§2.14), logs to Log Analytics (§2.15), protected against deletion.
 */
export class PostgresServer extends pulumi.ComponentResource {
    public readonly serverName: pulumi.Output<string>;
    public readonly fqdn: pulumi.Output<string>;
    public readonly databaseNames: pulumi.Output<string[]>;
    public readonly administratorLogin: string;
    /** Secret. */
    public readonly administratorPassword: pulumi.Output<string>;

    constructor(name: string, args: PostgresServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("backup-policy:azure:PostgresServer", name, {}, opts);

        // Private access: a subnet delegated to Flexible Server and a private DNS zone linked to the VNet.
        const subnet = new azure.network.Subnet(
            `${name}-subnet`,
            {
                subnetName: args.network.subnetName,
                resourceGroupName: args.resourceGroupName,
                virtualNetworkName: args.network.virtualNetworkName,
                addressPrefix: args.network.subnetPrefix,
                delegations: [{ name: "postgres-flexible-server", serviceName: postgresSubnetDelegation }],
            },
            { parent: this },
        );
        const dnsZone = new azure.privatedns.PrivateZone(
            `${name}-dns`,
            {
                privateZoneName: `${args.serverName}.${postgresPrivateDnsZoneSuffix}`,
                resourceGroupName: args.resourceGroupName,
                location: "global",
                tags: args.tags,
            },
            { parent: this },
        );
        const dnsLink = new azure.privatedns.VirtualNetworkLink(
            `${name}-dns-link`,
            {
                virtualNetworkLinkName: `${args.serverName}-vnet`,
                privateZoneName: dnsZone.name,
                resourceGroupName: args.resourceGroupName,
                location: "global",
                virtualNetwork: { id: args.network.virtualNetworkId },
                registrationEnabled: false,
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

        // Protected (and locked below): geoRedundantBackup can only be chosen when the server is
        // created. Changing it, like deleting the server, would mean a new server without the
        // existing backups, so Pulumi must never replace or delete this resource on its own.
        const server = new azure.dbforpostgresql.Server(
            `${name}-server`,
            {
                serverName: args.serverName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                version: args.version,
                sku: { name: args.sku.name, tier: args.sku.tier },
                storage: { storageSizeGB: args.storageSizeGB, autoGrow: azure.dbforpostgresql.StorageAutoGrow.Enabled },
                administratorLogin: args.administratorLogin,
                administratorLoginPassword: password.result,
                authConfig: {
                    passwordAuth: azure.dbforpostgresql.PasswordBasedAuth.Enabled,
                    activeDirectoryAuth: azure.dbforpostgresql.MicrosoftEntraAuth.Disabled,
                },
                // §2.5.1.1: automated daily full backups, retained 30 days, stored geo-redundantly.
                backup: {
                    backupRetentionDays: backupPolicy.database.retentionDays.value,
                    // backupPolicy.database.geoRedundant: creation-only, see above.
                    geoRedundantBackup: azure.dbforpostgresql.GeographicallyRedundantBackup.Enabled,
                },
                network: {
                    delegatedSubnetResourceId: subnet.id,
                    privateDnsZoneArmResourceId: dnsZone.id,
                    publicNetworkAccess: azure.dbforpostgresql.ServerPublicNetworkAccessState.Disabled,
                },
                tags: args.tags,
            },
            // The DNS zone must be linked to the VNet before a server with private access is created.
            { parent: this, protect: true, dependsOn: [dnsLink] },
        );

        // §2.9: encrypted transport only, at least the policy's TLS version. Azure rejects
        // concurrent parameter changes on one server, so the second waits for the first.
        const secureTransport = new azure.dbforpostgresql.Configuration(
            `${name}-require-secure-transport`,
            {
                configurationName: "require_secure_transport",
                resourceGroupName: args.resourceGroupName,
                serverName: server.name,
                value: "on",
                source: "user-override",
            },
            { parent: this },
        );
        const minimumTls = new azure.dbforpostgresql.Configuration(
            `${name}-ssl-min-protocol-version`,
            {
                configurationName: "ssl_min_protocol_version",
                resourceGroupName: args.resourceGroupName,
                serverName: server.name,
                value: backupPolicy.encryption.databaseMinTls.value,
                source: "user-override",
            },
            { parent: this, dependsOn: [secureTransport] },
        );

        // §2.14: the main service and every side service get their own database on the backed-up server.
        const databases = args.databaseNames.map(
            (databaseName) =>
                new azure.dbforpostgresql.Database(
                    `${name}-db-${databaseName}`,
                    {
                        databaseName,
                        resourceGroupName: args.resourceGroupName,
                        serverName: server.name,
                        charset: "UTF8",
                        collation: "en_US.utf8",
                    },
                    { parent: this, protect: true, dependsOn: [minimumTls] },
                ),
        );

        // §2.15: server logs and metrics to the workspace.
        new azure.monitor.DiagnosticSetting(
            `${name}-diagnostics`,
            {
                name: "backup-policy-logs",
                resourceUri: server.id,
                workspaceId: args.logAnalyticsWorkspaceId,
                logs: [{ categoryGroup: "allLogs", enabled: true }],
                metrics: [{ category: "AllMetrics", enabled: true }],
            },
            { parent: this },
        );

        // A lock in Azure too, so the server also survives a deletion outside Pulumi.
        new azure.authorization.ManagementLockByScope(
            `${name}-lock`,
            {
                lockName: "backup-policy-cannot-delete",
                scope: server.id,
                level: azure.authorization.LockLevel.CanNotDelete,
                notes: `Data Backup Policy ${backupPolicy.version.value} ${backupPolicy.database.geoRedundant.clause}: geo-redundant backups are set at creation; deleting the server deletes them.`,
            },
            { parent: this },
        );

        this.serverName = server.name;
        this.fqdn = server.fullyQualifiedDomainName;
        this.databaseNames = pulumi.all(databases.map((database) => database.name));
        this.administratorLogin = args.administratorLogin;
        this.administratorPassword = pulumi.secret(password.result);
        this.registerOutputs({
            serverName: this.serverName,
            fqdn: this.fqdn,
            databaseNames: this.databaseNames,
            administratorLogin: this.administratorLogin,
            administratorPassword: this.administratorPassword,
        });
    }
}
