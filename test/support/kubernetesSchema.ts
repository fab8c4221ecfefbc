/**
 * Validates rendered Kubernetes objects against the Kubernetes API schema, strictly.
 *
 * The schema is kubernetes-models 4.x (and @kubernetes-models/prometheus-operator 4.x for PrometheusRule) (the last line with CommonJS builds; 5.x is ESM-only and wants
 * Node 22): its `validate()` checks types, required fields and enums but accepts unknown fields. An
 * unknown field is exactly one the schema does not define, and the schema's validator reads every
 * field it defines: so the object is validated through a proxy that records each field the validator
 * reads, and every field it never read is reported as unknown (maps such as labels are read whole).
 */
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";

interface Model {
    validate(): void;
}

const models: Record<string, { prototype: Model }> = {
    "v1/ConfigMap": ConfigMap,
    "v1/Namespace": Namespace,
    "v1/Secret": Secret,
    "v1/ServiceAccount": ServiceAccount,
    "batch/v1/CronJob": CronJob,
    "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
    "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
};

/** Adds a model for a further kind (e.g. a custom resource's). */
export function registerModel(apiVersion: string, kind: string, model: { prototype: Model }): void {
    models[`${apiVersion}/${kind}`] = model;
}

function tracked(value: unknown, path: string, read: Map<string, Set<string>>): unknown {
    if (value === null || typeof value !== "object") {
        return value;
    }
    const keys = read.get(path) ?? new Set<string>();
    read.set(path, keys);
    return new Proxy(value, {
        get(target, key, receiver) {
            const field = Reflect.get(target, key, receiver) as unknown;
            if (typeof key === "string" && Object.prototype.hasOwnProperty.call(target, key)) {
                keys.add(key);
                return tracked(field, `${path}/${key}`, read);
            }
            return field;
        },
    });
}

function unknownFields(value: unknown, path: string, read: Map<string, Set<string>>): string[] {
    if (value === null || typeof value !== "object") {
        return [];
    }
    const seen = read.get(path) ?? new Set<string>();
    return Object.entries(value).flatMap(([key, field]) =>
        seen.has(key) ? unknownFields(field, `${path}/${key}`, read) : [`${path}/${key}`],
    );
}

/** Problems of one object: schema errors and unknown fields; empty when it is valid. */
export function schemaProblems(object: Record<string, unknown>): string[] {
    const key = `${String(object.apiVersion)}/${String(object.kind)}`;
    const model = models[key];
    if (model === undefined) {
        return [`no schema for ${key}`];
    }
    const plain = JSON.parse(JSON.stringify(object)) as Record<string, unknown>;
    const read = new Map<string, Set<string>>();
    try {
        model.prototype.validate.call(tracked(plain, "", read) as Model);
    } catch (e) {
        return [String((e as Error).message)];
    }
    return unknownFields(plain, "", read).map((path) => `unknown field ${path}`);
}
