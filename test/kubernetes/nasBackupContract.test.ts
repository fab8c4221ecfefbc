import { describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import {
    fileResourceClaimMetadata,
    fileResourceClaimType,
    nasBackupDeclarationFor,
    nasBackupTags,
    nasBackupTargetOf,
    readNasBackupTags,
} from "../../components/kubernetes/nasBackupContract";

describe("the NAS backup declaration as Azure tags", () => {
    const declaration = nasBackupDeclarationFor({ kind: "database", name: "auth" });

    it("uses tag names Azure accepts (no / < > % & \\ ?) and tag values of at most 256 characters", () => {
        for (const [name, value] of Object.entries(nasBackupTags(declaration))) {
            expect(name).not.toMatch(/[/<>%&\\?]/);
            expect(name.length).toBeLessThanOrEqual(512);
            expect(value.length).toBeLessThanOrEqual(256);
        }
    });

    it("reads back the target and the policy's retention", () => {
        expect(readNasBackupTags(nasBackupTags(declaration))).toEqual({
            kind: "database",
            name: "auth",
            dailyRetentionDays: backupPolicy.nas.dailyRetentionDays.value,
            monthlyRetentionMonths: backupPolicy.nas.monthlyRetentionMonths.value,
            monthlyAnchorDayOfMonth: backupPolicy.nas.monthlyAnchorDayOfMonth.value,
        });
    });

    it("reads untagged resources and resources without tags as no NAS backup", () => {
        expect(readNasBackupTags(undefined)).toBeUndefined();
        expect(readNasBackupTags({ environment: "prod" })).toBeUndefined();
    });

    it("reads a tagged job with a missing retention tag as not declaring it", () => {
        const tags = nasBackupTags(declaration);
        const withoutDaily = Object.fromEntries(
            Object.entries(tags).filter(([k]) => !k.endsWith("daily-retention-days")),
        );
        expect(readNasBackupTags(withoutDaily)?.dailyRetentionDays).toBeUndefined();
    });
});

describe("an existing claim as a NAS backup target", () => {
    const metadata = { name: "images-files", namespace: "nas-backup" };

    it("is the file resource its marker names, held in that claim", () => {
        const props = { metadata: { ...metadata, ...fileResourceClaimMetadata("automotive-staging-images") } };
        expect(nasBackupTargetOf(fileResourceClaimType, props)).toEqual({
            kind: "file-share",
            name: "automotive-staging-images",
            claim: { namespace: "nas-backup", name: "images-files" },
        });
    });

    it("is no target when the patch does not mark a file resource", () => {
        expect(nasBackupTargetOf(fileResourceClaimType, { metadata })).toBeUndefined();
        expect(
            nasBackupTargetOf(fileResourceClaimType, { metadata: { ...metadata, annotations: { a: "b" } } }),
        ).toBeUndefined();
    });

    it("has no name when the marker's annotation is empty (then nothing can cover it)", () => {
        const props = { metadata: { ...metadata, annotations: { ...fileResourceClaimMetadata("").annotations } } };
        expect(nasBackupTargetOf(fileResourceClaimType, props)?.name).toBeUndefined();
    });
});
