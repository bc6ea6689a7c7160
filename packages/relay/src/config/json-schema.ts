import * as z from 'zod';
import { configShape } from './schema.js';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  [key: string]: unknown;
}

let jsonSchema: JsonSchema | undefined;

/**
 * The JSON Schema of relay.json (draft-07, what editors support best), as shipped in
 * `@sms/webhook-relay/relay.schema.json`.
 */
export function relayConfigJsonSchema(): Record<string, unknown> {
  jsonSchema ??= z.toJSONSchema(configShape, {
    target: 'draft-7',
    io: 'input',
    override: ({ jsonSchema: node }) => {
      // z.int()'s safe-integer bounds say nothing to a person editing relay.json.
      if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
      if (node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
    },
  }) as JsonSchema;
  return structuredClone(jsonSchema);
}

export function schemaNode(): JsonSchema {
  if (!jsonSchema) relayConfigJsonSchema();
  return jsonSchema!;
}

/** The alternatives a node allows (`anyOf` flattened). */
export function branches(node: JsonSchema): JsonSchema[] {
  return node.anyOf ? node.anyOf.flatMap(branches) : [node];
}

export function kinds(node: JsonSchema): Set<string> {
  const out = new Set<string>();
  for (const branch of branches(node)) {
    const types = Array.isArray(branch.type) ? branch.type : branch.type ? [branch.type] : [];
    for (const type of types) out.add(type === 'integer' ? 'number' : type);
  }
  return out;
}

export function childNode(node: JsonSchema, key: PropertyKey): JsonSchema | undefined {
  for (const branch of branches(node)) {
    if (typeof key === 'number' && branch.items) return branch.items;
    if (typeof key === 'string' && branch.properties?.[key]) return branch.properties[key];
  }
  return undefined;
}

function nodeAt(path: readonly PropertyKey[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = schemaNode();
  for (const key of path) {
    if (!node) return undefined;
    node = childNode(node, key);
  }
  return node;
}

export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  const node = nodeAt(path);
  if (!node) return [];
  return branches(node).flatMap((branch) => Object.keys(branch.properties ?? {}));
}
