/**
 * The stack configuration schema on its own (no Pulumi run): what a stack gets for optional keys, and
 * the problems configErrors.test.ts does not cover (several in one section, address ranges, typos at
 * the top, lists).
 */
import { describe, expect, it } from "vitest";
import { azureDefaults } from "../../stacks/azureConfig";
import { ConfigError, validateStackConfig } from "../../stacks/config";
import { backupPolicy } from "../../components/policy";
import { supportedPostgresVersions } from "../../components/azure/settings";
import { configWith, ConfigPath } from "../support/stackConfig";

/** The settings of Pulumi.<stack>.yaml without the namespace, with changes. */
function settings(stack: string, ...changes: readonly [ConfigPath, unknown][]): Record<string, unknown> {
    const config = configWith(stack, ...changes);
    return Object.fromEntries(
        Object.entries(config).map(([key, value]) => [key.replace(/^backup-policy:/, ""), value]),
    );
}

/** The problems as "key: message" lines. */
function problems(raw: Record<string, unknown>, stack = "prod"): string[] {
    try {
        validateStackConfig(raw, stack);
    } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems.map((problem) => `${problem.key}: ${problem.message}`);
    }
    throw new Error("the configuration was accepted");
}

const newestVersion = supportedPostgresVersions[supportedPostgresVersions.length - 1];
const cidrRule = "an IPv4 address range in CIDR notation such as 10.20.0.0/16";
const shareRule =
    "a file share name: 3–63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit";

describe("stack configuration schema", () => {
    it("fills in the defaults of optional Azure settings and keeps the order of the databases", () => {
        const raw = settings(
            "trial",
            [["backup-policy:azure", "postgres", "skuName"], undefined],
            [["backup-policy:azure", "storage", "shareQuotaGiB"], undefined],
            [["backup-policy:azure", "postgres", "version"], Number(newestVersion)],
            [["backup-policy:databases", "reports"], "reports"],
        );
        const config = validateStackConfig(raw, "trial");
        expect(config.platform).toBe("azure");
        if (config.platform !== "azure") {
            return;
        }
        expect(config.azure.postgres.skuName).toBe(azureDefaults.postgres.skuName);
        expect(config.azure.postgres.version).toBe(newestVersion); // YAML 17 without quotes is a number
        expect(config.azure.storage.shareQuotaGiB).toBe(azureDefaults.storage.shareQuotaGiB);
        expect(config.azure.vault.immutability).toBe("Unlocked");
        expect(config.databases.map((database) => database.service)).toEqual([
            "main",
            ...backupPolicy.sideServices.value,
            "reports",
        ]);
    });

    it("reports every wrong network value, checking containment only between valid ranges", () => {
        expect(
            problems(settings("prod", [["backup-policy:azure", "network", "addressSpace"], "10.40.1.0/16"])),
        ).toEqual([`azure.network.addressSpace: 10.40.1.0/16 is not valid; allowed: ${cidrRule}`]);
        expect(
            problems(
                settings(
                    "prod",
                    [["backup-policy:azure", "network", "postgresSubnet"], "10.40.1.0/29"],
                    [["backup-policy:azure", "network", "name"], "-vnet"],
                ),
            ),
        ).toEqual([
            "azure.network.name: -vnet is not valid; allowed: a virtual network name: 2–64 letters, digits, _ - ., starting with a letter or digit",
            "azure.network.postgresSubnet: 10.40.1.0/29 is too small; allowed: a prefix of /28 or larger (Flexible Server needs at least /28)",
        ]);
        expect(
            problems(settings("prod", [["backup-policy:azure", "network", "postgresSubnet"], "10.0.0.0/8"])),
        ).toEqual([
            "azure.network.postgresSubnet: 10.0.0.0/8 is not inside azure.network.addressSpace 10.40.0.0/16; allowed: a subnet of 10.40.0.0/16",
        ]);
        expect(
            problems(settings("prod", [["backup-policy:azure", "network", "addressSpace"], "10.300.0.0/16"])),
        ).toEqual([`azure.network.addressSpace: 10.300.0.0/16 is not valid; allowed: ${cidrRule}`]);
    });

    it("names unknown keys at the top with the keys of the stack's platform", () => {
        expect(
            problems(settings("staging", [["backup-policy:azure"], { location: "northeurope" }]), "staging"),
        ).toEqual([
            "azure: is not a known setting; known settings: platform, environment, dataClassification, databases, shares, digitalocean, nasBackup",
        ]);
    });

    it("checks shares and databases item by item and as a whole", () => {
        expect(problems(settings("prod", [["backup-policy:shares"], ["documents", "documents", "Bad"]]))).toEqual([
            `shares[2]: Bad is not valid; allowed: ${shareRule}`,
            "shares[1]: documents is listed twice; each share once",
            expect.stringMatching(
                /^shares: \["documents","documents","Bad"\] lacks images; required: documents, images \(/,
            ),
        ]);
        expect(problems(settings("prod", [["backup-policy:shares"], "documents"]))).toEqual([
            "shares: documents is not valid; expected a list of file share names containing documents, images",
        ]);
        expect(problems(settings("prod", [["backup-policy:databases"], undefined]))).toEqual([
            expect.stringMatching(
                /^databases: is missing; required: a database name for each of main, auth, messaging \(/,
            ),
        ]);
    });

    it("checks only the keys every stack has when the platform is wrong", () => {
        expect(
            problems(
                settings("prod", [["backup-policy:platform"], "aws"], [["backup-policy:dataClassification"], "x"]),
            ),
        ).toEqual([
            expect.stringMatching(/^platform: aws is not allowed; allowed: azure, digitalocean \(/),
            "dataClassification: x is not allowed; allowed: public, internal, confidential, strictly-confidential",
        ]);
    });
});
