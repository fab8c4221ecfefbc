import { backupPolicy } from "../policy";

/** Tag keys every taggable Azure resource carries. */
export const tagKeys = Object.freeze({
    environment: "environment",
    dataClassification: "data-classification",
    policyVersion: "backup-policy-version",
});

export interface TagValues {
    /** prod, trial, ... */
    readonly environment: string;
    /** The data classification of what the resource stores (classification policy, §2.4). */
    readonly dataClassification: string;
}

/** The tags of a taggable Azure resource: environment, data classification, policy version. */
export function backupPolicyTags(values: TagValues): Record<string, string> {
    return {
        [tagKeys.environment]: values.environment,
        [tagKeys.dataClassification]: values.dataClassification,
        [tagKeys.policyVersion]: backupPolicy.version.value,
    };
}
