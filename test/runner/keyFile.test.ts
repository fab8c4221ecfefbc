/**
 * The runner's quick key (runner/src/keyFile.ts) with real restic 0.14 and `rclone serve restic`:
 * a key file restic itself opens, added once, tried first by every restic start.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openKeyFile, QUICK_KDF, QUICK_KEY_USER, type KeyFile } from "../../runner/src/keyFile";
import {
    failureCause,
    repositoryKeys,
    requireTools,
    restic,
    resticOnPath,
    runCli,
    startNas,
    type Nas,
} from "./harness";

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

let nas: Nas;
let work: string;
let share: string;

beforeAll(async () => {
    requireTools();
    nas = await startNas();
    work = mkdtempSync(join(tmpdir(), "nas-backup-keys-"));
    chmodSync(work, 0o755);
    share = join(work, "documents");
    mkdirSync(share);
    writeFileSync(join(share, "Angebot.txt"), "Sehr geehrte Frau Müller, …\n");
}, 60_000);

afterAll(async () => {
    await nas?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
});

/** The key files of a target's repository, as the NAS stores them. */
function keyFiles(target: string): { id: string; file: KeyFile }[] {
    const dir = join(nas.dir, target, "keys");
    return readdirSync(dir).map((id) => ({ id, file: JSON.parse(readFileSync(join(dir, id), "utf8")) as KeyFile }));
}

/** restic on PATH, logging each start's RESTIC_KEY_HINT and arguments. */
function loggingRestic(): { env: Record<string, string>; starts: () => string[] } {
    const wrapper = resticOnPath('echo "hint=$RESTIC_KEY_HINT $*" >> "$LOG"\nexec "$REAL" "$@"', work);
    return {
        env: { ...nas.env, NAS_BACKUP_PROGRESS_SECONDS: "0", PATH: `${wrapper.dir}:${process.env.PATH}` },
        starts: wrapper.lines,
    };
}

describe("the runner's quick key", () => {
    it("is added once, holds the repository's master key (restic opens the repository with it alone), and every restic start tries it first", async () => {
        const { env, starts } = loggingRestic();
        const backup = async (): Promise<void> => {
            const b = await runCli(["backup", "--target", "quick", "--directory", share], env);
            expect(b.code, b.stderr).toBe(0);
            expect(b.events.filter((e) => e.event === "repository.quick_key_added")).toHaveLength(
                backups++ === 0 ? 1 : 0,
            );
        };
        let backups = 0;
        await backup();
        await backup();
        expect(keyFiles("quick")).toHaveLength(2);
        const ids = repositoryKeys(nas, "quick");
        const [quick, calibrated] = [ids.quick, ids.calibrated].map((id) =>
            keyFiles("quick").find((k) => k.id === id)!,
        );
        expect(quick.file).toMatchObject({ kdf: "scrypt", ...QUICK_KDF, username: QUICK_KEY_USER });
        expect(calibrated.file.N).toBeGreaterThan(QUICK_KDF.N); // what `restic init` calibrated
        // restic init runs before any key exists; every later start names the quick key.
        const [init, ...later] = starts();
        expect(init).toMatch(/^hint= init /);
        expect(later.length).toBeGreaterThanOrEqual(4);
        for (const start of later) expect(start.startsWith(`hint=${quick.id} `), start).toBe(true);

        // Both keys hold the same master key: the repository opens with the quick key alone.
        expect(await openKeyFile(quick.file, nas.resticPassword)).toEqual(
            await openKeyFile(calibrated.file, nas.resticPassword),
        );
        rmSync(join(nas.dir, "quick", "keys", calibrated.id));
        const check = restic(["check"], nas.resticEnv("quick", "backup"));
        expect(check.status, check.stderr).toBe(0);
        const into = join(work, "restored");
        const r = await runCli(["restore", "--target", "quick", "--into-directory", into], env);
        expect(r.code, r.stderr).toBe(0);
        expect(readFileSync(join(into, share, "Angebot.txt"), "utf8")).toBe("Sehr geehrte Frau Müller, …\n");
    });

    it("opens nothing with a wrong password or a changed byte; a wrong password adds no key and fails as before", async () => {
        const b = await runCli(["backup", "--target", "tamper", "--directory", share], nas.env);
        expect(b.code, b.stderr).toBe(0);
        const wrongKey = join(work, "wrong-key");
        writeFileSync(wrongKey, `${"x".repeat(48)}\n`, { mode: 0o644 });
        const wrong = await runCli(["backup", "--target", "tamper", "--directory", share], {
            ...nas.env,
            RESTIC_PASSWORD_FILE: wrongKey,
        });
        expect(wrong.code).toBe(1);
        expect(failureCause(wrong)).toMatch(/wrong repository password/);
        expect(keyFiles("tamper")).toHaveLength(2);
        for (const { file } of keyFiles("tamper")) {
            const master = await openKeyFile(file, nas.resticPassword);
            expect(Object.keys(JSON.parse(String(master)) as object).sort()).toEqual(["encrypt", "mac"]);
            expect(await openKeyFile(file, `${nas.resticPassword}x`)).toBeUndefined();
            const data = Buffer.from(file.data, "base64");
            data[20] ^= 1;
            expect(await openKeyFile({ ...file, data: data.toString("base64") }, nas.resticPassword)).toBeUndefined();
            expect(await openKeyFile({ ...file, N: 3 }, nas.resticPassword)).toBeUndefined();
        }
    });

    it("is not added for a password shorter than 32 characters (one a person could have chosen)", async () => {
        const passwordFile = join(work, "short-key");
        writeFileSync(passwordFile, "correct horse battery staple\n", { mode: 0o644 });
        const { env, starts } = loggingRestic();
        const b = await runCli(["backup", "--target", "short", "--directory", share], {
            ...env,
            RESTIC_PASSWORD_FILE: passwordFile,
        });
        expect(b.code, b.stderr).toBe(0);
        expect(keyFiles("short")).toHaveLength(1);
        for (const start of starts()) expect(start.startsWith("hint= "), start).toBe(true);
    });
});
