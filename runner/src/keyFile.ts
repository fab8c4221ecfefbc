/**
 * restic's key files (restic's design document, "Keys, Encryption and MAC"; restic 0.14
 * `internal/repository/key.go` and `internal/crypto`): a key file holds the repository's master key,
 * encrypted with a key that scrypt derives from the password with the parameters stored in the same
 * file. restic opens a repository by deriving that key, which with the parameters `restic init`
 * calibrates (N = 2^15, r = 8, p = 4–7 here) costs ~0.4 CPU-s at every restic start.
 *
 * The runner adds a second key file for the same password whose scrypt parameters cost milliseconds
 * (QUICK_KDF) and names it to restic (`RESTIC_KEY_HINT`, restic's `--key-hint`). That is sound only because the password is a
 * generated random secret (48 characters from 62, ~285 bits: `components/*` `repositoryKey`), which no
 * work factor has to protect; for a shorter password the runner adds no such key (QUICK_KEY_MIN_PASSWORD).
 */
import { createCipheriv, createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const scryptAsync = promisify(scrypt) as (
    password: string,
    salt: Buffer,
    length: number,
    options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** What restic 0.14 stores in `keys/<id>` (JSON; byte arrays as base64). */
export interface KeyFile {
    created: string;
    username: string;
    hostname: string;
    kdf: string;
    N: number;
    r: number;
    p: number;
    salt: string;
    data: string;
}

/** The quick key's scrypt parameters: 1 MiB of memory, milliseconds of CPU. */
export const QUICK_KDF = { N: 2 ** 10, r: 8, p: 1 } as const;
/** A key file whose derivation costs no more than the quick key's (the runner's, or one like it). */
export const isQuickKeyFile = (f: Pick<KeyFile, "N" | "r" | "p">): boolean =>
    f.N <= QUICK_KDF.N && f.r <= QUICK_KDF.r && f.p <= QUICK_KDF.p;
/** Passwords shorter than this get no quick key (a human could have chosen them). */
export const QUICK_KEY_MIN_PASSWORD = 32;
/** The quick key's `username` in `restic key list`, so that an operator knows whose it is. */
export const QUICK_KEY_USER = "nas-backup-quick-key";

const P1305 = (1n << 130n) - 5n;
const R_MASK = Buffer.from("ffffff0ffcffff0ffcffff0ffcffff0f", "hex");

const littleEndian = (b: Buffer): bigint => BigInt(`0x${Buffer.from(b).reverse().toString("hex") || "0"}`);

/** Poly1305 with restic's key: r (masked) and s = AES-128_k(nonce). */
function poly1305Aes(msg: Buffer, nonce: Buffer, macK: Buffer, macR: Buffer): Buffer {
    const r = littleEndian(Buffer.from(macR.map((x, i) => x & R_MASK[i])));
    const aes = createCipheriv("aes-128-ecb", macK, null).setAutoPadding(false);
    const s = littleEndian(Buffer.concat([aes.update(nonce), aes.final()]));
    let h = 0n;
    for (let i = 0; i < msg.length; i += 16) {
        const block = msg.subarray(i, i + 16);
        h = ((h + littleEndian(block) + (1n << BigInt(8 * block.length))) * r) % P1305;
    }
    const tag = ((h + s) % (1n << 128n)).toString(16).padStart(32, "0");
    return Buffer.from(tag, "hex").reverse();
}

interface Keys {
    encrypt: Buffer;
    macK: Buffer;
    macR: Buffer;
}

async function derive(file: Pick<KeyFile, "N" | "r" | "p" | "salt">, password: string): Promise<Keys> {
    const out = await scryptAsync(password, Buffer.from(file.salt, "base64"), 64, {
        N: file.N,
        r: file.r,
        p: file.p,
        maxmem: 256 * file.N * file.r + 1024 * 1024,
    });
    return { encrypt: out.subarray(0, 32), macK: out.subarray(32, 48), macR: out.subarray(48, 64) };
}

const ctr = (key: Buffer, iv: Buffer, data: Buffer): Buffer => {
    const c = createCipheriv("aes-256-ctr", key, iv);
    return Buffer.concat([c.update(data), c.final()]);
};

/** The master key (restic's JSON, as stored) in `file`, or undefined if `password` does not open it. */
export async function openKeyFile(file: KeyFile, password: string): Promise<Buffer | undefined> {
    const data = Buffer.from(String(file.data), "base64");
    if (file.kdf !== "scrypt" || data.length < 32) return undefined;
    // Parameters scrypt refuses (or that would need more than its memory limit) open nothing.
    const keys = await derive(file, password).catch(() => undefined);
    if (!keys) return undefined;
    const iv = data.subarray(0, 16);
    const ciphertext = data.subarray(16, data.length - 16);
    const mac = poly1305Aes(ciphertext, iv, keys.macK, keys.macR);
    if (!timingSafeEqual(mac, data.subarray(data.length - 16))) return undefined;
    return ctr(keys.encrypt, iv, ciphertext);
}

/** A new key file holding `masterKey` for `password` with the quick parameters, and its name (id). */
export async function sealQuickKeyFile(
    masterKey: Buffer,
    password: string,
    hostname: string,
): Promise<{ id: string; body: string }> {
    const salt = randomBytes(64).toString("base64");
    const keys = await derive({ ...QUICK_KDF, salt }, password);
    const iv = randomBytes(16);
    const ciphertext = ctr(keys.encrypt, iv, masterKey);
    const data = Buffer.concat([iv, ciphertext, poly1305Aes(ciphertext, iv, keys.macK, keys.macR)]);
    const file: KeyFile = {
        created: new Date().toISOString(),
        username: QUICK_KEY_USER,
        hostname,
        kdf: "scrypt",
        ...QUICK_KDF,
        salt,
        data: data.toString("base64"),
    };
    const body = JSON.stringify(file);
    return { id: createHash("sha256").update(body).digest("hex"), body };
}
