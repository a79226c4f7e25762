// Kubernetes JSON-schema validation, strict about unknown fields.
//
// The schemas are the validators that the npm package kubernetes-models compiles (with Ajv) from the
// Kubernetes OpenAPI definitions, one module per definition, shipped in the package: nothing is
// downloaded at run time. They check types, formats, enums and required fields, but - like the API
// server - they let unknown fields through. kubectl refuses them (--validate=strict), and so does this
// module: it hands the validator a read-only view of the object that records every property the
// validator looks up and every object whose keys it enumerates (maps such as labels). A property the
// schema never looked at is a property the schema does not define.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

// The package exports its models but not its schema modules: load those by file.
const modelsRoot = dirname(createRequire(import.meta.url).resolve('kubernetes-models'));
const modelsVersion = JSON.parse(readFileSync(join(modelsRoot, 'package.json'), 'utf8')).version;

/** The Kubernetes release whose API the bundled schemas describe (read off the schemas, see README). */
export const KUBERNETES_API = '1.33';
export const SCHEMA_PACKAGE = `kubernetes-models@${modelsVersion}`;

const validators = new Map();

/** `apps/v1` + `Deployment` -> the definition name kubernetes-models uses, e.g. IoK8sApiAppsV1Deployment. */
export function definitionName(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const groupPart = group === '' ? 'Core' : capitalise(group.replace(/\.k8s\.io$/, '').split('.')[0]);
  return `IoK8sApi${groupPart}${capitalise(version)}${kind}`;
}

async function validatorFor(apiVersion, kind) {
  const name = definitionName(apiVersion, kind);
  if (!validators.has(name)) {
    let validate = null;
    try {
      ({ validate } = await import(pathToFileURL(join(modelsRoot, '_schemas', `${name}.mjs`)).href));
    } catch {
      validate = null;
    }
    validators.set(name, validate);
  }
  return validators.get(name);
}

/**
 * Validates one Kubernetes object. Returns a list of messages (empty when valid).
 * @param {object} object a parsed manifest
 */
export async function validateObject(object) {
  if (!object || typeof object !== 'object') return ['not an object'];
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') return ['apiVersion and kind are required'];
  const validate = await validatorFor(object.apiVersion, object.kind);
  if (!validate) return [`no schema for ${object.apiVersion} ${object.kind} in ${SCHEMA_PACKAGE} (unknown or misspelt kind/apiVersion)`];

  const checked = asDecodedByApiServer(object);
  const { view, looked, enumerated } = watch(checked);
  validate(view);
  const messages = (validate.errors ?? []).map(formatError);
  for (const path of unknownFields(checked, looked, enumerated)) messages.push(`${path}: unknown field (not in the ${object.apiVersion} ${object.kind} schema)`);
  return messages;
}

// kustomize wraps long base64 values (Secret data, ConfigMap binaryData) at 70 columns; the API server's
// base64 decoder skips line breaks, the schema's "byte" format does not. Check what the server decodes.
function asDecodedByApiServer(object) {
  if (object.kind !== 'Secret' && object.kind !== 'ConfigMap') return object;
  const field = object.kind === 'Secret' ? 'data' : 'binaryData';
  if (!object[field] || typeof object[field] !== 'object') return object;
  const unwrapped = Object.fromEntries(Object.entries(object[field]).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v]));
  return { ...object, [field]: unwrapped };
}

function watch(root) {
  const looked = new WeakMap();
  const enumerated = new WeakSet();
  const views = new WeakMap();
  const note = (target, key) => {
    if (typeof key !== 'string') return;
    let keys = looked.get(target);
    if (!keys) looked.set(target, (keys = new Set()));
    keys.add(key);
  };
  const wrap = (value) => {
    if (value === null || typeof value !== 'object') return value;
    if (views.has(value)) return views.get(value);
    const view = new Proxy(value, {
      get(target, key, receiver) {
        note(target, key);
        return wrap(Reflect.get(target, key, receiver));
      },
      has(target, key) {
        note(target, key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        enumerated.add(target);
        return Reflect.ownKeys(target);
      },
      set() {
        throw new Error('the schema validator tried to modify the object');
      },
      deleteProperty() {
        throw new Error('the schema validator tried to modify the object');
      },
    });
    views.set(value, view);
    return view;
  };
  return { view: wrap(root), looked, enumerated };
}

function unknownFields(root, looked, enumerated) {
  const found = [];
  const walk = (value, path) => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${path}/${i}`));
      return;
    }
    const keys = looked.get(value) ?? new Set();
    const open = enumerated.has(value);
    for (const key of Object.keys(value)) {
      const child = `${path}/${escape(key)}`;
      if (!open && !keys.has(key)) found.push(child || '/');
      else walk(value[key], child);
    }
  };
  walk(root, '');
  return found;
}

function formatError(error) {
  const at = error.instancePath || '/';
  const p = error.params ?? {};
  switch (error.keyword) {
    case 'required': return `${at}: missing required field "${p.missingProperty}"`;
    case 'type': return `${at}: must be ${p.type}`;
    case 'enum': return `${at}: must be one of ${JSON.stringify(p.allowedValues)}`;
    case 'format': return `${at}: must match format ${p.format}`;
    default: return `${at}: ${error.message ?? error.keyword} ${JSON.stringify(p)}`;
  }
}

const escape = (key) => key.replace(/~/g, '~0').replace(/\//g, '~1');
const capitalise = (s) => s.charAt(0).toUpperCase() + s.slice(1);
