// Checks what goes over the wire against the OpenAPI document, as openapi-fetch middleware.
//
// For every call the story makes through the generated client:
//   - the response's status and content type must be documented for the operation, and its JSON body must
//     validate against the documented schema (JSON Schema 2020-12, as OpenAPI 3.1 says);
//   - the request body the story sent (and the server accepted) is validated against the documented request
//     schema too: a body the server takes but the schema refuses means the schema is wrong (for example a
//     field marked required that the server treats as optional).
// Each mismatch is recorded with the operation, the status and the JSON pointers into the document and into
// the body, so whoever fixes the document can find it.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const DOC_ID = "urn:agentdesk:openapi";

/** JSON pointer → the fragment form Ajv resolves ($ref "urn:…#/paths/~1agent~1register/…"). */
const fragment = (segments) =>
  "#/" + segments.map((s) => encodeURIComponent(String(s).replace(/~/g, "~0").replace(/\//g, "~1"))).join("/");
/** JSON pointer of path segments ("#/paths/~1agent~1register/post"). */
export const pointer = (segments) => "#/" + segments.map((s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

/**
 * Validates values against schemas of the document (JSON Schema 2020-12, as OpenAPI 3.1 says), addressed by the
 * path segments of the schema in the document: validate(["paths", "/agent/register", "post", …, "schema"], value)
 * answers one line per problem (empty when the value is valid).
 */
export function createSchemaValidator(document) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat("int32", { type: "number", validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("int64", { type: "number", validate: (n) => Number.isInteger(n) });
  ajv.addFormat("double", { type: "number", validate: () => true });
  ajv.addFormat("float", { type: "number", validate: () => true });
  ajv.addSchema({ ...document, $id: DOC_ID });

  const compiled = new Map();
  const validatorAt = (segments) => {
    const key = pointer(segments);
    if (!compiled.has(key)) compiled.set(key, ajv.compile({ $ref: DOC_ID + fragment(segments) }));
    return compiled.get(key);
  };
  return (segments, value) => {
    const check = validatorAt(segments);
    if (check(value)) return [];
    return (check.errors ?? []).map((e) => {
      const at = decodeURIComponent(e.schemaPath).replace(DOC_ID, "");
      const where = at.includes("/components/schemas/") ? ` [${at.slice(at.indexOf("#"))}]` : "";
      return `${e.instancePath || "(body)"}: ${e.message}${e.params && Object.keys(e.params).length ? " " + JSON.stringify(e.params) : ""}${where}`;
    });
  };
}

export function createConformance(document) {
  const validate = createSchemaValidator(document);

  /** The schema at a pointer, named by its $ref when it is one ("#/components/schemas/X"). */
  const schemaNameAt = (segments) => {
    let node = document;
    for (const s of segments) node = node?.[s];
    if (node?.$ref) return node.$ref;
    if (node?.items?.$ref) return `array of ${node.items.$ref}`;
    return "inline schema";
  };

  /** @type {Array<{kind: string, operation: string, status?: number, documentPointer: string, schema?: string, problems: string[]}>} */
  const violations = [];
  const pendingRequests = new Map();
  let checkedResponses = 0, checkedRequests = 0;

  const mediaTypeOf = (headers) => (headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();

  const middleware = {
    /** @param {{ request: Request, schemaPath: string, id: string }} options */
    async onRequest({ request, schemaPath, id }) {
      const method = request.method.toLowerCase();
      const operation = `${request.method} ${schemaPath}`;
      const op = document.paths?.[schemaPath]?.[method];
      if (!op) {
        violations.push({ kind: "request", operation, documentPointer: pointer(["paths", schemaPath, method]), problems: ["the operation is not in the document"] });
        return undefined;
      }
      const text = request.body ? await request.clone().text() : "";
      if (!text) return undefined;
      const media = mediaTypeOf(request.headers) || "application/json";
      const content = op.requestBody?.content;
      if (!content?.[media]) {
        violations.push({ kind: "request", operation, documentPointer: pointer(["paths", schemaPath, method, "requestBody"]), problems: [`no request body of type ${media} is documented`] });
        return undefined;
      }
      if (!content[media].schema) return undefined;
      checkedRequests++;
      const segments = ["paths", schemaPath, method, "requestBody", "content", media, "schema"];
      const problems = validate(segments, JSON.parse(text));
      // Counted only if the server accepts the request (see onResponse).
      if (problems.length) pendingRequests.set(id, { kind: "request (accepted by the server, refused by the schema)", operation, documentPointer: pointer(segments), schema: schemaNameAt(segments), problems });
      return undefined;
    },
    /** @param {{ request: Request, response: Response, schemaPath: string, id: string }} options */
    async onResponse({ request, response, schemaPath, id }) {
      const method = request.method.toLowerCase();
      const operation = `${request.method} ${schemaPath}`;
      const pending = pendingRequests.get(id);
      pendingRequests.delete(id);
      if (pending && response.ok) violations.push(pending);
      const op = document.paths?.[schemaPath]?.[method];
      if (!op) return undefined;
      const status = String(response.status);
      const documented = op.responses?.[status] ? status : op.responses?.[`${status[0]}XX`] ? `${status[0]}XX` : op.responses?.default ? "default" : undefined;
      if (!documented) {
        violations.push({ kind: "response", operation, status: response.status, documentPointer: pointer(["paths", schemaPath, method, "responses"]), problems: [`status ${status} is not documented (documented: ${Object.keys(op.responses ?? {}).join(", ")})`] });
        return undefined;
      }
      const text = await response.clone().text();
      if (!text) return undefined;
      const media = mediaTypeOf(response.headers);
      const content = op.responses[documented].content;
      if (!content?.[media]) {
        violations.push({ kind: "response", operation, status: response.status, documentPointer: pointer(["paths", schemaPath, method, "responses", documented, "content"]), problems: [`content type ${media} is not documented for ${documented} (documented: ${Object.keys(content ?? {}).join(", ") || "none"})`] });
        return undefined;
      }
      if (!content[media].schema) {
        violations.push({ kind: "response", operation, status: response.status, documentPointer: pointer(["paths", schemaPath, method, "responses", documented, "content", media]), problems: ["the response has no schema (untyped)"] });
        return undefined;
      }
      checkedResponses++;
      const segments = ["paths", schemaPath, method, "responses", documented, "content", media, "schema"];
      let body;
      try { body = JSON.parse(text); } catch { body = text; }
      const problems = validate(segments, body);
      if (problems.length) violations.push({ kind: "response", operation, status: response.status, documentPointer: pointer(segments), schema: schemaNameAt(segments), problems });
      return undefined;
    },
  };

  return {
    middleware,
    /** The mismatches found so far, each once (the same problem on the same operation is reported once). */
    report() {
      const seen = new Set();
      const unique = [];
      for (const v of violations) {
        const key = JSON.stringify([v.kind, v.operation, v.status, v.documentPointer, v.problems]);
        if (!seen.has(key)) { seen.add(key); unique.push(v); }
      }
      return { checkedRequests, checkedResponses, violations: unique };
    },
  };
}

export function formatConformance({ checkedRequests, checkedResponses, violations }) {
  const lines = [`conformance: ${checkedResponses} responses and ${checkedRequests} request bodies checked against the document, ${violations.length} mismatches`];
  for (const v of violations) {
    lines.push(`  ${v.kind}: ${v.operation}${v.status ? ` → ${v.status}` : ""}\n      at ${v.documentPointer}${v.schema ? ` (${v.schema})` : ""}`);
    for (const p of v.problems) lines.push(`      ${p}`);
  }
  return lines.join("\n");
}
