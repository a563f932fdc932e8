// Deterministic generator of NDJSON events shaped like the logs of an LLM
// multi-agent workflow (a GAMP categorization pipeline with planner, agents,
// validators and tool hooks). Same (n, seed) -> byte-identical output, so runs
// and machines compare the same input.
//
// Compression honesty: free text is composed word by word from a few hundred
// words, ids are random hex, numbers are random. LZ4 then sees the kind of
// redundancy real logs have (repeated keys, vocabulary, session ids that recur)
// without the absurd ratios of repeated templates or padding.

/** mulberry32: tiny, fast, good enough for test data; returns floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the a an of to in for on with by from as at and or but not is are was be been will can should must may ' +
  'system software validation requirement specification user functional design configuration risk assessment ' +
  'category critical quality attribute process control batch record electronic signature audit trail data integrity ' +
  'ALCOA principle GxP compliance regulatory FDA EMA Annex 11 Part 21 CFR GAMP 5 supplier vendor module interface ' +
  'database server cloud infrastructure laboratory manufacturing execution LIMS MES ERP SCADA historian report ' +
  'analysis result review approval change deviation CAPA investigation root cause impact patient safety product ' +
  'test case protocol script evidence trace matrix coverage gap finding observation recommendation mitigation ' +
  'custom bespoke commercial off-the-shelf configured standard platform library framework component integration ' +
  'agent planner reviewer researcher context retrieval document chunk embedding query answer summary citation ' +
  'confidence score threshold reasoning step plan task subtask tool call response token model prompt completion ' +
  'timeout retry fallback error warning exception handled unexpected parsed field value missing invalid schema ' +
  'workflow session state transition event queue worker handler callback pipeline stage output input cache hit miss ' +
  'operator administrator access role permission training SOP procedure periodic backup restore archive retention ' +
  'calibration equipment instrument sensor alarm threshold limit excursion temperature humidity pressure sample ' +
  'because therefore however additionally including within without between during after before against across ' +
  'identified determined classified selected recommended required expected observed confirmed rejected escalated'
).split(/\s+/);

const AGENTS = [
  'categorization_agent',
  'planner_agent',
  'context_provider',
  'research_agent',
  'sme_agent',
  'oq_generator',
  'validator',
  'orchestrator',
  'reviewer_agent',
  'compliance_checker',
];
const MODELS = ['gpt-4.1-mini', 'gpt-4o', 'claude-sonnet-4', 'o4-mini', 'deepseek-v3', 'llama-3.3-70b'];
const TOOLS = ['vector_search', 'read_document', 'web_fetch', 'sql_query', 'python_exec', 'write_file', 'regulatory_lookup', 'embed_chunks'];
const LOGGERS = ['app.workflow', 'app.agents.planner', 'app.agents.context', 'app.api', 'app.storage', 'app.llm.client', 'app.validation', 'uvicorn.access'];
const RULES = ['schema.required_fields', 'gamp.category_consistency', 'trace.requirement_coverage', 'alcoa.attributable', 'risk.score_range', 'oq.step_count'];
const DOC_PREFIX = ['URS', 'FRS', 'DS', 'RA', 'IQ', 'OQ', 'PQ', 'SOP'];

// Level mix of a healthy system: mostly info, some debug, a little warn/error.
const LEVELS = [
  ['info', 0.72],
  ['debug', 0.16],
  ['warn', 0.08],
  ['error', 0.04],
];
// Event type mix; weights say how common each record kind is in such logs.
const KINDS = [
  ['AgentRequestEvent', 0.18],
  ['AgentResponseEvent', 0.14],
  ['tool_start', 0.14],
  ['tool_end', 0.14],
  ['log', 0.2],
  ['PlanningEvent', 0.06],
  ['ValidationEvent', 0.07],
  ['GAMPCategorizationEvent', 0.04],
  ['WorkflowStepEvent', 0.03],
];

/**
 * Returns a function producing one event object at a time. The target serialized
 * size is drawn per event as 150 + 450*u^2 (mean ~300 bytes, long right tail up
 * to 600), then a free-text field is filled to reach it.
 */
export function eventSource(seed) {
  const rnd = mulberry32(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = (arr) => arr[Math.floor(rnd() * arr.length)];
  const weighted = (pairs) => {
    let u = rnd();
    for (const [v, w] of pairs) if ((u -= w) < 0) return v;
    return pairs[pairs.length - 1][0];
  };
  const hex = (n) => {
    let s = '';
    while (s.length < n)
      s += Math.floor(rnd() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return s.slice(0, n);
  };
  const uuid = () => {
    const h = hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  };
  const words = (n) => {
    const out = [];
    for (let i = 0; i < n; i++) out.push(pick(WORDS));
    return out.join(' ');
  };
  const sentence = (n) => {
    const s = words(n);
    return s[0].toUpperCase() + s.slice(1) + '.';
  };

  // A pool of live workflow sessions: events of one session recur, as in real logs.
  const sessions = Array.from({ length: 64 }, () => ({ id: uuid(), workflow: `wf-${hex(6)}`, doc: `${pick(DOC_PREFIX)}-${int(100, 9999)}` }));
  let clock = Date.UTC(2025, 5, 12, 8, 0, 0); // fixed start so output is reproducible

  function payloadFor(kind, level) {
    switch (kind) {
      case 'AgentRequestEvent':
        return { agent: pick(AGENTS), model: pick(MODELS), prompt_tokens: int(200, 12000), temperature: pick([0, 0.1, 0.2, 0.7]), text: '' };
      case 'AgentResponseEvent':
        return {
          agent: pick(AGENTS),
          model: pick(MODELS),
          completion_tokens: int(20, 4000),
          latency_ms: int(180, 45000),
          finish_reason: pick(['stop', 'stop', 'stop', 'length', 'tool_calls']),
          text: '',
        };
      case 'tool_start':
        return { tool: pick(TOOLS), call_id: `call_${hex(24)}`, args: { query: words(int(2, 6)), top_k: int(3, 20) }, text: '' };
      case 'tool_end':
        return {
          tool: pick(TOOLS),
          call_id: `call_${hex(24)}`,
          duration_ms: int(2, 9000),
          status: level === 'error' ? 'error' : 'ok',
          result_items: int(0, 40),
          text: '',
        };
      case 'PlanningEvent':
        return { plan_id: `plan-${hex(8)}`, steps: Array.from({ length: int(2, 4) }, () => words(int(2, 4))), estimated_tokens: int(1000, 60000), text: '' };
      case 'ValidationEvent':
        return { rule: pick(RULES), passed: level !== 'error' && rnd() < 0.85, issues: int(0, 4), text: '' };
      case 'GAMPCategorizationEvent':
        return {
          category: pick([1, 3, 4, 5]),
          confidence: Math.round(rnd() * 1000) / 1000,
          software_type: pick(['infrastructure', 'non-configured', 'configured', 'custom']),
          review_required: rnd() < 0.3,
          text: '',
        };
      case 'WorkflowStepEvent':
        return {
          step: pick(['categorize', 'plan', 'gather_context', 'generate_oq', 'review', 'finalize']),
          state: pick(['started', 'completed', 'waiting', 'retrying']),
          attempt: int(1, 3),
          text: '',
        };
      default:
        return null; // 'log': flat application log line, see below
    }
  }

  return function next() {
    clock += int(0, 250); // events arrive every 0-250 ms
    const s = sessions[int(0, sessions.length - 1)];
    const level = weighted(LEVELS);
    const kind = weighted(KINDS);
    const ts = new Date(clock).toISOString();
    let ev;
    let fill; // the object whose `text`/`message` field absorbs the remaining size
    let key;
    if (kind === 'log') {
      ev = { timestamp: ts, levelname: level.toUpperCase(), logger: pick(LOGGERS), session_id: s.id, lineno: int(20, 900), message: '' };
      fill = ev;
      key = 'message';
    } else if (kind === 'tool_start' || kind === 'tool_end') {
      // Hooks are linked by the payload's call_id, so they carry no correlation id.
      ev = { timestamp: ts, hook_type: kind, level, agent: pick(AGENTS), session_id: s.id, payload: payloadFor(kind, level) };
      fill = ev.payload;
      key = 'text';
    } else {
      ev = { timestamp: ts, event_type: kind, level, source: pick(AGENTS), session_id: s.id, payload: payloadFor(kind, level) };
      // Request/response pairs share a correlation id; document-centric events
      // name the workflow and document they concern instead.
      if (kind === 'AgentRequestEvent' || kind === 'AgentResponseEvent') ev.correlation_id = uuid();
      else if (kind !== 'WorkflowStepEvent') Object.assign(ev, { workflow_id: s.workflow, document_id: s.doc });
      fill = ev.payload;
      key = 'text';
    }
    // Structured events carry ~200-300 bytes before any text, so the drawn
    // target is skewed low (150 + 450*u^3) to land the overall mean near 300
    // bytes; every event still gets at least a few words of text.
    const target = 150 + Math.floor(450 * rnd() * rnd() * rnd());
    const base = JSON.stringify(ev).length;
    const want = Math.min(Math.max(target - base, int(8, 30)), 600 - base);
    let text = '';
    while (text.length < want) text += (text ? ' ' : '') + sentence(int(4, 14));
    // Cut at a word boundary, as a logger truncating a long message would.
    const cut = text.lastIndexOf(' ', want);
    fill[key] = text.slice(0, cut > want / 2 ? cut : want);
    return ev;
  };
}

/** n events as plain objects (what a producer holds before it serializes). */
export function makeEventObjects(n, seed = 1) {
  const next = eventSource(seed);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = next();
  return out;
}

/** n events as JSON strings (no trailing newline). */
export function makeEvents(n, seed = 1) {
  const next = eventSource(seed);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = JSON.stringify(next());
  return out;
}

/**
 * n events as one NDJSON Buffer, every line newline-terminated. Built in
 * chunks: millions of events are more than one JavaScript string may hold.
 */
export function makeBuffer(n, seed = 1) {
  const next = eventSource(seed);
  const chunks = [];
  for (let i = 0; i < n; ) {
    const lines = [];
    for (const end = Math.min(n, i + 16384); i < end; i++) lines.push(JSON.stringify(next()));
    chunks.push(Buffer.from(lines.join('\n') + '\n', 'utf8'));
  }
  return Buffer.concat(chunks);
}
