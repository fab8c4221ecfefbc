/**
 * DigitalOcean staging (§2.5.1.2, §2.6): the managed database sits on the stack's private network and
 * admits only trusted sources of the account (the DOKS cluster), never an address range; every
 * database cluster has such a firewall. Property names and type tokens are @pulumi/digitalocean 4.x's.
 */
import { type ResourceValidationPolicy, type StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { DatabaseCluster } from "@pulumi/digitalocean/databaseCluster";
import { DatabaseFirewall } from "@pulumi/digitalocean/databaseFirewall";
import { backupPolicy } from "../../components/policy";
import { databaseFirewallRuleTypes } from "../../components/digitalocean/settings";
import { observe, record, shown, valueAt } from "../lib/read";
import { backupRule } from "../lib/rule";
import { label, refersTo } from "../lib/stack";

export const digitalOceanDatabasePrivateNetwork = backupRule<ResourceValidationPolicy>(
    [backupPolicy.protection.accessRestricted],
    {
        name: "digitalocean-database-private-network",
        description:
            "DigitalOcean database cluster is placed in the stack's VPC (privateNetworkUuid set; it cannot be changed later without replacing the cluster).",
        validateResource: validateResourceOfType(DatabaseCluster, (cluster, args, reportViolation) => {
            const vpc = observe(args, cluster, "privateNetworkUuid");
            if (typeof vpc !== "string" || vpc === "") {
                reportViolation(
                    `privateNetworkUuid is ${shown(vpc)}; the policy requires the cluster in a private network (VPC).`,
                );
            }
        }),
    },
);

/** Trusted-source types that name a resource of the account rather than an address. */
const resourceSourceTypes: readonly string[] = ["k8s", "droplet", "tag", "app"];

/** True for a single RFC 1918 IPv4 address (no range). */
export function isSinglePrivateAddress(value: string): boolean {
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(value);
    if (!match) {
        return false;
    }
    const [a, b] = match.slice(1, 3).map(Number);
    if (match.slice(1).some((octet) => Number(octet) > 255)) {
        return false;
    }
    return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** Why one trusted-source rule is not acceptable, or undefined when it is. */
function firewallRuleProblem(rule: unknown): string | undefined {
    const type = valueAt(rule, ["type"]);
    const value = valueAt(rule, ["value"]);
    if (typeof type === "string" && resourceSourceTypes.includes(type)) {
        return typeof value === "string" && value !== "" ? undefined : `a ${type} rule without a value`;
    }
    if (type === databaseFirewallRuleTypes.ipAddress) {
        return typeof value === "string" && isSinglePrivateAddress(value)
            ? undefined
            : `ip_addr ${shown(value)} (an address range or a public address)`;
    }
    return `rule type ${shown(type)} (allowed: ${[...resourceSourceTypes, databaseFirewallRuleTypes.ipAddress].join(", ")})`;
}

export const digitalOceanDatabaseFirewallRestricted = backupRule<ResourceValidationPolicy>(
    [backupPolicy.protection.accessRestricted],
    {
        name: "digitalocean-database-firewall-restricted",
        description:
            `DigitalOcean database firewall admits only trusted sources of the account (${resourceSourceTypes.join(", ")}) ` +
            "or single private addresses, never an address range or a public address; an empty list admits everyone.",
        validateResource: validateResourceOfType(DatabaseFirewall, (firewall, args, reportViolation) => {
            const rules = observe(args, firewall, "rules");
            if (!Array.isArray(rules) || rules.length === 0) {
                reportViolation(
                    `rules is ${shown(rules)}; without a trusted source the database accepts connections from anywhere.`,
                );
                return;
            }
            const problems = rules.map(firewallRuleProblem).filter((problem) => problem !== undefined);
            if (problems.length > 0) {
                reportViolation(
                    `rules admit ${problems.join("; ")}; the policy allows only trusted sources of the account.`,
                );
            }
        }),
    },
);

export const digitalOceanDatabaseHasFirewall = backupRule<StackValidationPolicy>(
    [backupPolicy.protection.accessRestricted],
    {
        name: "digitalocean-database-has-firewall",
        description:
            "Every DigitalOcean database cluster of the stack has a database firewall (trusted sources); without one it accepts connections from the internet.",
        validateStack: (args, reportViolation) => {
            const clusters = args.resources.filter((r) => r.isType(DatabaseCluster));
            if (clusters.length === 0) {
                args.notApplicable("The stack has no DigitalOcean database cluster.");
            }
            const firewalls = args.resources.filter((r) => r.isType(DatabaseFirewall));
            for (const cluster of clusters) {
                const guarding = firewalls.filter((f) => refersTo(f, "clusterId", cluster, ["id"]));
                record(
                    args,
                    cluster.urn,
                    "database firewall",
                    guarding.map((f) => f.name),
                );
                if (guarding.length === 0) {
                    reportViolation(`${label(cluster)} has no database firewall in this stack.`, cluster.urn);
                }
            }
        },
    },
);

export const digitalOceanRules = [
    digitalOceanDatabasePrivateNetwork,
    digitalOceanDatabaseFirewallRestricted,
    digitalOceanDatabaseHasFirewall,
];
