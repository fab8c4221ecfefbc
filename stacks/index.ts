/**
 * Pulumi entry point (package.json "main"): `pulumi up -s prod` runs this file through ts-node.
 * Everything happens in backupPolicyStack(), which the tests and the offline check run as well.
 */
import { readStackConfig } from "./config";
import { backupPolicyStack } from "./program";

// The stack outputs are this module's exports.
export = backupPolicyStack(readStackConfig());
