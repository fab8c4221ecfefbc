/**
 * Reading a resource's properties the way every rule of this pack does: through a typed path, so
 * the property names are checked against the provider SDK's types at compile time, and so that the
 * offline check can show an auditor exactly which property and value a rule looked at.
 *
 * Under the Pulumi CLI the props are the policy runtime's unknown-checking proxy: touching a value
 * that is unknown during preview throws `UnknownValueError`, which the runtime turns into an
 * advisory "can't run policy during preview" message. These helpers never catch that error.
 */

/** What a rule looked at on one resource (the offline check turns these into evidence rows). */
export interface Observation {
    readonly urn: string;
    readonly property: string;
    readonly value: unknown;
}

/**
 * Key under which the offline check attaches a recorder to the arguments it passes a rule. The
 * policy runtime of the Pulumi CLI never sets it, so there recording is a no-op and a rule behaves
 * identically.
 */
export const observationRecorder: unique symbol = Symbol.for("backup-policy.observation-recorder");

export type ObservationRecorder = (observation: Observation) => void;

interface MaybeRecording {
    readonly [observationRecorder]?: ObservationRecorder;
}

type Key = string | number;
type At<T, K> = K extends keyof NonNullable<T> ? NonNullable<T>[K] : undefined;

/** Value at a path, `undefined` when any step is not set. Unknown values throw (see above). */
export function valueAt(props: unknown, path: readonly Key[]): unknown {
    let current: unknown = props;
    for (const key of path) {
        if (current === undefined || current === null || typeof current !== "object") {
            return undefined;
        }
        current = (current as Record<Key, unknown>)[key];
    }
    return current === null ? undefined : current;
}

/** Plain copy of an observed value (props may be proxies); never more than the value itself. */
function snapshot(value: unknown): unknown {
    if (value === undefined || value === null || typeof value !== "object") {
        return value;
    }
    return JSON.parse(JSON.stringify(value)) as unknown;
}

/** Records what a rule observed, if the caller attached a recorder; otherwise does nothing. */
export function record(args: object, urn: string, property: string, value: unknown): void {
    const recorder = (args as MaybeRecording)[observationRecorder];
    if (typeof recorder !== "function") {
        return;
    }
    let copy: unknown;
    try {
        copy = snapshot(value);
    } catch {
        // Part of the value is unknown during preview: the rule will hit it itself, or not need it.
        copy = "(unknown during preview)";
    }
    recorder({ urn, property, value: copy });
}

/**
 * Records a value the rule does not need itself (e.g. names for the evidence table): `compute` runs
 * only when a recorder is attached, so a value unknown during preview never affects the rule.
 */
export function recordComputed(args: object, urn: string, property: string, compute: () => unknown): void {
    if (typeof (args as MaybeRecording)[observationRecorder] !== "function") {
        return;
    }
    let value: unknown;
    try {
        value = compute();
    } catch {
        value = "(unknown during preview)";
    }
    record(args, urn, property, value);
}

/** The arguments of a resource rule that `observe` needs. */
interface ObservedResource {
    readonly urn: string;
}

/**
 * Reads a property of the resource under validation by a typed path and records the observation.
 * `observe(args, server, "backup", "backupRetentionDays")` reads `server.backup.backupRetentionDays`.
 */
export function observe<T, K1 extends keyof NonNullable<T>>(
    args: ObservedResource,
    props: T,
    k1: K1,
): At<T, K1> | undefined;
export function observe<T, K1 extends keyof NonNullable<T>, K2 extends keyof NonNullable<At<T, K1>>>(
    args: ObservedResource,
    props: T,
    k1: K1,
    k2: K2,
): At<At<T, K1>, K2> | undefined;
export function observe<
    T,
    K1 extends keyof NonNullable<T>,
    K2 extends keyof NonNullable<At<T, K1>>,
    K3 extends keyof NonNullable<At<At<T, K1>, K2>>,
>(args: ObservedResource, props: T, k1: K1, k2: K2, k3: K3): At<At<At<T, K1>, K2>, K3> | undefined;
export function observe<
    T,
    K1 extends keyof NonNullable<T>,
    K2 extends keyof NonNullable<At<T, K1>>,
    K3 extends keyof NonNullable<At<At<T, K1>, K2>>,
    K4 extends keyof NonNullable<At<At<At<T, K1>, K2>, K3>>,
>(args: ObservedResource, props: T, k1: K1, k2: K2, k3: K3, k4: K4): At<At<At<At<T, K1>, K2>, K3>, K4> | undefined;
export function observe(args: ObservedResource, props: unknown, ...path: Key[]): unknown {
    const value = valueAt(props, path);
    record(args, args.urn, path.join("."), value);
    return value;
}

/** Readable rendering of a value in a violation message ("not set" for undefined). */
export function shown(value: unknown): string {
    if (value === undefined) {
        return "not set";
    }
    return JSON.stringify(snapshot(value));
}
