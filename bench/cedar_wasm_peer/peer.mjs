// The cedar-wasm side of the policy benchmark: the same policies, entities and requests
// as custos' bench/policy_bench.cc (dumped with --dump_workload=DIR), through
// cedar-wasm's fastest API used honestly: the policy set is preparsed once, and each
// request gets only the entities it needs (principal, resource, everything they
// reference, and all their ancestors), computed before the timed loop.
// Usage: node peer.mjs WORKLOAD_DIR [MAX_REQUESTS]
// Prints one JSON line: decisions/s, the plain isAuthorized rate on a sample, and
// whether every decision and reason list equals custos' (decisions.json).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cedar = require('@cedar-policy/cedar-wasm/nodejs');

const dir = process.argv[2];
const maxRequests = Number(process.argv[3] || 0);
const read = (name) => readFileSync(`${dir}/${name}`, 'utf8');

// --- the policy set, keyed by each policy's @id so reasons compare with custos' ---
const parts = cedar.policySetTextToParts(read('policies.cedar'));
if (parts.type !== 'success') throw new Error(JSON.stringify(parts.errors));
const idOf = (text) => {
  const m = text.match(/@id\("([^"]+)"\)/);
  if (!m) throw new Error(`policy without @id: ${text.slice(0, 80)}`);
  return m[1];
};
const staticPolicies = {};
for (const p of parts.policies) staticPolicies[idOf(p)] = p;
const templates = {};
for (const t of parts.policy_templates) templates[idOf(t)] = t;
const templateLinks = JSON.parse(read('links.json')).map((l) => ({
  templateId: l.template,
  newId: l.link,
  values: { '?principal': l.principal, '?resource': l.resource },
}));
const policies = { staticPolicies, templates, templateLinks };
const prep = cedar.preparsePolicySet('bench', policies);
if (prep.type !== 'success') throw new Error(JSON.stringify(prep.errors));

// --- per-request entity slices ---
const entities = JSON.parse(read('entities.json'));
// Action entities and their groups come from the schema (`action a, b in [g]`), as
// Cedar adds them when it parses entities with a schema; here they are explicit.
for (const m of read('schema.cedarschema').matchAll(/action\s+([^;{]+?)(?:\s+in\s+\[([^\]]*)\])?\s*(?:appliesTo|;)/g)) {
  const parents = (m[2] || '').split(',').map((g) => g.trim()).filter(Boolean)
      .map((g) => ({ type: 'Action', id: g.replace(/"/g, '') }));
  for (const name of m[1].split(',').map((a) => a.trim().replace(/"/g, ''))) {
    entities.push({ uid: { type: 'Action', id: name }, attrs: {}, parents });
  }
}
const byKey = new Map(entities.map((e) => [`${e.uid.type}::${e.uid.id}`, e]));
const keyOf = (uid) => `${uid.type}::${uid.id}`;
function collectRefs(value, out) {
  if (Array.isArray(value)) value.forEach((v) => collectRefs(v, out));
  else if (value && typeof value === 'object') {
    if (value.__entity) out.push(value.__entity);
    else if (typeof value.type === 'string' && typeof value.id === 'string' &&
             Object.keys(value).length === 2) out.push(value);
    else Object.values(value).forEach((v) => collectRefs(v, out));
  }
}
function slice(uids) {
  const seen = new Set();
  const result = [];
  const stack = [...uids];
  while (stack.length) {
    const uid = stack.pop();
    const k = keyOf(uid);
    if (seen.has(k)) continue;
    seen.add(k);
    const e = byKey.get(k);
    if (!e) continue;
    result.push(e);
    for (const p of e.parents || []) stack.push(p);
    const refs = [];
    collectRefs(e.attrs || {}, refs);
    stack.push(...refs);
  }
  return result;
}

let requests = JSON.parse(read('requests.json'));
let expected = JSON.parse(read('decisions.json'));
if (maxRequests > 0) {
  requests = requests.slice(0, maxRequests);
  expected = expected.slice(0, maxRequests);
}
const calls = requests.map((r) => {
  const refs = [r.principal, r.resource, r.action];
  collectRefs(r.context, refs);
  return {
    principal: r.principal, action: r.action, resource: r.resource, context: r.context,
    preparsedPolicySetId: 'bench', entities: slice(refs),
  };
});

// --- timed loop ---
const answers = new Array(calls.length);
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
for (let i = 0; i < calls.length; i++) answers[i] = cedar.statefulIsAuthorized(calls[i]);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;

let mismatches = 0;
let firstMismatch = null;
for (let i = 0; i < calls.length; i++) {
  const a = answers[i];
  const got = a.type === 'success'
      ? { decision: a.response.decision, reason: [...a.response.diagnostics.reason].sort() }
      : { decision: 'failure', reason: a.errors.map((e) => e.message) };
  const want = expected[i];
  if (got.decision !== want.decision ||
      JSON.stringify(got.reason) !== JSON.stringify([...want.reason].sort())) {
    mismatches++;
    if (!firstMismatch) firstMismatch = { index: i, got, want };
  }
}

// Plain isAuthorized (the policy set parsed on every call) on a sample, with the same
// per-request entity slices.
const sample = Math.min(300, calls.length);
const t1 = process.hrtime.bigint();
for (let i = 0; i < sample; i++) {
  const c = calls[i];
  cedar.isAuthorized({ principal: c.principal, action: c.action, resource: c.resource,
                       context: c.context, policies, entities: c.entities });
}
const plainSeconds = Number(process.hrtime.bigint() - t1) / 1e9;

console.log(JSON.stringify({
  cedar_wasm_version: cedar.getCedarVersion(),
  requests: calls.length,
  stateful_decisions_per_s: calls.length / seconds,
  stateful_decisions_per_cpu_s: calls.length / cpuSeconds,
  plain_decisions_per_s: sample / plainSeconds,
  mismatches,
  first_mismatch: firstMismatch,
}));
