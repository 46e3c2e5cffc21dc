// validate-istio.mjs - strict offline check of Istio objects against Istio's own schema.
//
// Usage: node validate-istio.mjs < objects.json   (a JSON array of Kubernetes objects)
// Prints one line per problem and exits 1 if any object is invalid, 2 on bad input.
//
// Two checks per object, both from the npm package @kubernetes-models/istio, which is generated
// from Istio's CRDs:
//  1. its JSON schema validator (types, enums, required fields, oneOf rules);
//  2. unknown fields. Those schemas, like the CRDs, allow extra properties (the API server
//     prunes them silently), so a misspelt "retryOn" would pass check 1 and do nothing in the
//     cluster. The package's TypeScript declarations list every field Istio knows; any field
//     of the object that they do not declare is reported.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const require = createRequire(import.meta.url);
const pkgDir = path.dirname(require.resolve("@kubernetes-models/istio/package.json"));

// kind + apiVersion -> the package's module for it ("networking.istio.io/v1/VirtualService").
function modulePath(obj) {
    if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") return null;
    const [group, version] = obj.apiVersion.split("/");
    if (!group.endsWith("istio.io") || !version || !/^[A-Za-z]+$/.test(obj.kind)) return null;
    return `${group}/${version}/${obj.kind}`;
}

// The declared TypeScript type "I<Kind>" of one module.
function declaredType(mod, kind) {
    const file = path.join(pkgDir, `${mod}.d.ts`);
    const program = ts.createProgram([file], {
        strict: true,
        noEmit: true,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
    });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(file);
    const decl = source.statements.find(
        (s) => ts.isInterfaceDeclaration(s) && s.name.text === `I${kind}`);
    if (!decl) throw new Error(`${file} declares no I${kind}`);
    return { checker, type: checker.getTypeAtLocation(decl.name) };
}

// Every member of every type in the list, unions flattened, null and undefined dropped.
function flatten(checker, types) {
    return types.flatMap((t) => {
        t = checker.getNonNullableType(t);
        return t.isUnion() ? flatten(checker, t.types) : [t];
    });
}

// Reports every field of value that none of types declares, recursively.
function unknownFields(checker, value, types, where, out) {
    types = flatten(checker, types);
    if (Array.isArray(value)) {
        const elems = types.filter((t) => checker.isArrayType(t) || checker.isTupleType(t))
            .map((t) => checker.getTypeArguments(t)[0]);
        if (elems.length === 0) return; // a type mismatch: check 1 reports it
        value.forEach((v, i) => unknownFields(checker, v, elems, `${where}[${i}]`, out));
        return;
    }
    if (value === null || typeof value !== "object") return;
    const props = new Map(); // field name -> its declared types
    const indexTypes = []; // value types of maps ({[key: string]: T})
    for (const t of types) {
        for (const p of checker.getPropertiesOfType(t)) {
            if (!props.has(p.name)) props.set(p.name, []);
            props.get(p.name).push(checker.getTypeOfSymbol(p));
        }
        for (const info of checker.getIndexInfosOfType(t)) indexTypes.push(info.type);
    }
    for (const [key, v] of Object.entries(value)) {
        const at = `${where}.${key}`;
        if (props.has(key)) unknownFields(checker, v, props.get(key), at, out);
        else if (indexTypes.length) unknownFields(checker, v, indexTypes, at, out);
        else out.push(`${at}: unknown field (not in Istio's schema)`);
    }
}

async function validate(obj, problems) {
    const name = `${obj.kind}/${obj.metadata?.name ?? "?"}`;
    const mod = modulePath(obj);
    if (!mod) {
        problems.push(`${name}: not an Istio object (apiVersion ${obj.apiVersion})`);
        return;
    }
    let Model;
    try {
        Model = (await import(`@kubernetes-models/istio/${mod}`))[obj.kind];
    } catch {
        problems.push(`${name}: Istio has no kind ${obj.kind} in ${obj.apiVersion}`);
        return;
    }
    try {
        new Model(obj).validate();
    } catch (e) {
        problems.push(`${name}: ${e.message}`);
    }
    const { checker, type } = declaredType(mod, obj.kind);
    const out = [];
    unknownFields(checker, obj, [type], name, out);
    problems.push(...out);
}

let objects;
try {
    objects = JSON.parse(readFileSync(0, "utf8"));
    if (!Array.isArray(objects)) throw new Error("expected a JSON array of objects");
} catch (e) {
    console.error(`validate-istio: ${e.message}`);
    process.exit(2);
}
const problems = [];
for (const obj of objects) await validate(obj, problems);
for (const p of problems) console.log(p);
if (problems.length === 0) console.log(`validate-istio: ${objects.length} object(s) valid`);
process.exit(problems.length ? 1 : 0);
