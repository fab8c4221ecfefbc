import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { postgresRootCaBundle, postgresRootCaNames } from "../../components/azure/postgresCa";

/** Subject CN and SHA-256 fingerprint of each certificate in a PEM bundle, read by openssl. */
function certificates(bundle: string): { cn: string; sha256: string; selfSigned: boolean }[] {
    const pems = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
    return pems.map((pem) => {
        const r = spawnSync(
            "openssl",
            ["x509", "-noout", "-subject", "-issuer", "-fingerprint", "-sha256", "-nameopt", "multiline"],
            {
                input: pem,
                encoding: "utf8",
            },
        );
        expect(r.status, r.stderr).toBe(0);
        const cns = [...r.stdout.matchAll(/commonName\s+=\s+(.+)/g)].map((m) => m[1].trim());
        return {
            cn: cns[0],
            sha256: /Fingerprint=([0-9A-F:]+)/.exec(r.stdout)?.[1] ?? "",
            selfSigned: cns[0] === cns[1],
        };
    });
}

describe("the root CAs the NAS jobs verify Azure PostgreSQL against", () => {
    it("are exactly the named self-signed roots, with the Mozilla store's fingerprints", () => {
        expect(certificates(postgresRootCaBundle)).toEqual([
            {
                cn: postgresRootCaNames[0],
                sha256: "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F",
                selfSigned: true,
            },
            {
                cn: postgresRootCaNames[1],
                sha256: "C7:41:F7:0F:4B:2A:8D:88:BF:2E:71:C1:41:22:EF:53:EF:10:EB:A0:CF:A5:E6:4C:FA:20:F4:18:85:30:73:E0",
                selfSigned: true,
            },
            {
                cn: postgresRootCaNames[2],
                sha256: "43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61",
                selfSigned: true,
            },
        ]);
    });
});
