/**
 * No secret value is ever printed: every value the offline run marks secret (secret inputs and
 * outputs of resources, secret stack outputs, `secure:` config placeholders) is replaced by
 * "[secret]" wherever it would appear in the report. Rules never read secret properties, and
 * evidence values of secret properties are already "[secret]"; this is the second line of defence.
 */
import type { OfflineRun } from "../../stacks/offline";

export const secretMarker = "[secret]";

/** Shorter values (e.g. "on", 1) are too common to replace inside text; they are never printed as secrets either. */
const minimumLength = 4;

function leaves(value: unknown, into: Set<string>): void {
    if (typeof value === "string" || typeof value === "number") {
        into.add(String(value));
    } else if (Array.isArray(value)) {
        value.forEach((v) => leaves(v, into));
    } else if (value !== null && typeof value === "object") {
        Object.values(value).forEach((v) => leaves(v, into));
    }
}

/**
 * Everything the run shows in the clear anyway: type tokens, names, URNs and every value of a property,
 * stack output or config key that is not secret.
 */
function publicText(run: OfflineRun): string {
    const found = new Set<string>();
    for (const r of run.resources) {
        [r.type, r.name, r.urn].forEach((t) => found.add(t));
        Object.keys(r.inputs).forEach((k) => r.secretInputs.includes(k) || leaves(r.inputs[k], found));
        Object.keys(r.outputs).forEach((k) => r.secretOutputs.includes(k) || leaves(r.outputs[k], found));
    }
    Object.keys(run.outputs).forEach((k) => run.secretOutputs.includes(k) || leaves(run.outputs[k], found));
    Object.keys(run.config).forEach((k) => run.secretConfigKeys.includes(k) || leaves(run.config[k], found));
    return [...found].join("\u0000");
}

/**
 * The secret values of an offline run, longest first. A secret property is secret as a whole (the
 * engine marks e.g. a Container Apps Job's whole `configuration` secret when one job secret is in it,
 * azure-native wraps the object in one output), so its plain parts ("Schedule", a share name) are
 * among its leaves; a leaf the run shows in the clear anyway (`publicText`) is not hidden by
 * redacting it, only garbles the report ("[secret]dQueryRule"), and is left alone.
 */
export function secretValues(run: OfflineRun): string[] {
    const found = new Set<string>();
    for (const r of run.resources) {
        r.secretInputs.forEach((k) => leaves(r.inputs[k], found));
        r.secretOutputs.forEach((k) => leaves(r.outputs[k], found));
    }
    run.secretOutputs.forEach((k) => leaves(run.outputs[k], found));
    run.secretConfigKeys.forEach((k) => leaves(run.config[k], found));
    const clear = publicText(run);
    return [...found]
        .filter((s) => s.length >= minimumLength && !clear.includes(s))
        .sort((a, b) => b.length - a.length);
}

/** Replaces every secret value in a text (also in its JSON-escaped form). */
export function redactText(text: string, secrets: readonly string[]): string {
    let result = text;
    for (const s of secrets) {
        result = result.split(s).join(secretMarker);
        const escaped = JSON.stringify(s).slice(1, -1);
        if (escaped !== s) result = result.split(escaped).join(secretMarker);
    }
    return result;
}

/**
 * A copy of a JSON-able value with the secrets replaced inside its strings (also in keys) and secret
 * numbers replaced whole; booleans and null stay as they are, so a secret such as "null" cannot break
 * the structure.
 */
function redactValue(value: unknown, secrets: readonly string[]): unknown {
    if (typeof value === "string") {
        return redactText(value, secrets);
    }
    if (typeof value === "number" && secrets.includes(String(value))) {
        return secretMarker;
    }
    if (Array.isArray(value)) {
        return value.map((item) => redactValue(item, secrets));
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(
            Object.entries(value).map(([key, item]) => [redactText(key, secrets), redactValue(item, secrets)]),
        );
    }
    return value;
}

/** A function that returns a copy of any JSON-able value with the run's secrets replaced. */
export function redactor(run: OfflineRun): <T>(value: T) => T {
    const secrets = secretValues(run);
    return <T>(value: T): T =>
        secrets.length === 0 ? value : (redactValue(JSON.parse(JSON.stringify(value)), secrets) as T);
}
