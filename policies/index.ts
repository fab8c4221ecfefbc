/**
 * Entry point of the policy pack, which serves the rules over the analyzer protocol when the Pulumi CLI
 * starts it through @pulumi/pulumi's cmd/run-policy-pack: compiled to dist/policy-pack/policies/index.js
 * by `npm run build:policies` (what CI passes to `--policy-pack`), or as is with `--policy-pack policies`.
 */
import { PolicyPack } from "@pulumi/policy";
import { packArgs, packName } from "./pack";

new PolicyPack(packName, packArgs);
