/**
 * The policy pack's identity and its rules, importable without starting the pack's gRPC server
 * (index.ts does that). Tests and the offline check (`npm run check`) use this list, so they run
 * exactly the rules the Pulumi CLI runs.
 */
import type { PolicyPackArgs } from "@pulumi/policy";
import { backupPolicy } from "../components/policy";
import { alertRules } from "./rules/alerts";
import { drillScratchRules } from "./rules/drillScratch";
import { fileShareBackupRules } from "./rules/fileShareBackup";
import { nasBackupRules } from "./rules/nasBackup";
import { nasJobRules } from "./rules/nasJobs";
import { nasKubernetesRules } from "./rules/nasKubernetes";
import { digitalOceanRules } from "./rules/digitalocean";
import { platformRules } from "./rules/platform";
import { postgresVersionRules } from "./rules/postgresVersion";
import { postgresqlRules } from "./rules/postgresql";
import { storageRules } from "./rules/storage";
import { vaultRules } from "./rules/vault";

/** Name of the pack as the Pulumi CLI and Pulumi Cloud show it. */
export const packName = "data-backup-policy";

export const packArgs: PolicyPackArgs = {
    description:
        `IT Manufactory GmbH Data Backup Policy v${backupPolicy.version.value}: backups, retention, geo-redundancy, ` +
        "encryption, access and deletion protection of the Digital Automotive infrastructure.",
    enforcementLevel: "mandatory",
    policies: [
        ...postgresqlRules,
        ...storageRules,
        ...vaultRules,
        ...fileShareBackupRules,
        ...alertRules,
        ...nasBackupRules,
        ...nasJobRules,
        ...drillScratchRules,
        ...nasKubernetesRules,
        ...digitalOceanRules,
        ...postgresVersionRules,
        ...platformRules,
    ],
};
