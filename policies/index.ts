/**
 * Entry point of the policy pack: `pulumi preview --policy-pack policies` runs this file through
 * @pulumi/pulumi's cmd/run-policy-pack (ts-node), which serves the rules over the analyzer protocol.
 */
import { PolicyPack } from "@pulumi/policy";
import { packArgs, packName } from "./pack";

new PolicyPack(packName, packArgs);
