// What the canvas knows: node types, nodes, edges, selection, the last plan. The server is the truth;
// the store keeps the newest state it has heard of (from API answers and live events alike).
// Every live event goes through `apply`, which calls the one handler kept for its type in
// `handlers`; feature modules add theirs with `register`. Events nobody handles are ignored.

function putNodeOf(event, store) {
  store.putNode(event.node);
}

// A run moved this node: what the last plan said of it ("will run") is stale until the plan is
// refreshed, so the card shows no plan line meanwhile rather than a wrong one.
function putRunNodeOf(event, store) {
  if (["queued", "running", "succeeded"].includes(event.node.status)) store.plan.delete(event.node.id);
  store.putNode(event.node);
}

const HANDLERS = {
  "graph.snapshot": (event, store) => store.replaceAll(event),
  "node.status": putRunNodeOf,
  "node.output": putRunNodeOf,
  "node.created": putNodeOf,
  "node.updated": putNodeOf,
  "node.progress": (event, store) => store.setProgress(event.node_id, event),
  "node.deleted": (event, store) => store.removeNode(event.node_id, event.edge_ids),
  "edge.created": (event, store) => store.putEdge(event.edge, event.replaced),
  "edge.deleted": (event, store) => store.removeEdge(event.edge_id),
  "edges.reordered": (event, store) => store.putEdges(event.edges),
  "run.planned": (event, store) => store.putRun(event.run),
  "run.finished": (event, store) => store.endRun(event.run),
};

export class Store {
  constructor({ projectId, canEdit }) {
    this.projectId = projectId;
    this.canEdit = canEdit;
    this.types = new Map();
    this.nodes = new Map();
    this.edges = new Map();
    this.selection = new Set();
    this.plan = new Map(); // node id -> {action, cost, reason}
    this.problems = new Map(); // node id -> [problem]
    this.runs = new Map(); // run id -> run state, while running
    this.listeners = new Set();
    this.handlers = { ...HANDLERS };
  }

  apply(event) {
    this.handlers[event.type]?.(event, this);
  }

  // A feature's handler for an event type: it runs after the one already kept for that type, so
  // that the store has taken the event in before features react to it.
  register(type, handler) {
    const before = this.handlers[type];
    this.handlers[type] = before
      ? (event, store) => {
          before(event, store);
          handler(event, store);
        }
      : handler;
  }

  on(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change) {
    for (const listener of this.listeners) listener(change);
  }

  setTypes(types) {
    for (const type of types) this.types.set(type.name, type);
  }

  type(name) {
    return this.types.get(name);
  }

  // What a node is called wherever it is listed: its title, or its type's label ("Video", not "video").
  nameOf(node, fallback = "?") {
    if (!node) return fallback;
    return node.title || this.type(node.type)?.label || node.type;
  }

  // Accept a node state unless we already hold a newer one of it.
  putNode(node) {
    const current = this.nodes.get(node.id);
    if (current && current.version > node.version) return false;
    if (current && current.version === node.version && current.updated_at > node.updated_at) return false;
    this.nodes.set(node.id, { ...current, ...node });
    this.emit({ kind: "node", id: node.id });
    return true;
  }

  patchNode(id, fields) {
    const current = this.nodes.get(id);
    if (!current) return;
    this.nodes.set(id, { ...current, ...fields });
    this.emit({ kind: "node", id });
  }

  removeNode(id, edgeIds = []) {
    this.nodes.delete(id);
    this.selection.delete(id);
    for (const edgeId of edgeIds) this.edges.delete(edgeId);
    for (const [edgeId, edge] of this.edges) if (edge.source === id || edge.target === id) this.edges.delete(edgeId);
    this.emit({ kind: "graph" });
  }

  putEdge(edge, replaced = []) {
    for (const id of replaced) this.edges.delete(id);
    this.edges.set(edge.id, edge);
    this.emit({ kind: "edges" });
  }

  // The edges into a multi port, in their new order.
  putEdges(edges) {
    for (const edge of edges) this.edges.set(edge.id, edge);
    this.emit({ kind: "edges" });
  }

  // Live progress: kept on the node (cards drawn again show it) and announced on its own, because
  // drawing the whole card at every progress step would restart its previews.
  setProgress(id, { progress, label, job_id }) {
    const node = this.nodes.get(id);
    if (!node) return;
    Object.assign(node, { progress, progress_label: label, job_id });
    this.emit({ kind: "progress", id });
  }

  putRun(run) {
    if (run.status === "running") this.runs.set(run.id, run);
    this.emit({ kind: "runs" });
  }

  endRun(run) {
    this.runs.delete(run.id);
    this.emit({ kind: "runs" });
  }

  get running() {
    return [...this.runs.values()].filter((run) => run.status === "running");
  }

  removeEdge(id) {
    this.edges.delete(id);
    this.emit({ kind: "edges" });
  }

  replaceAll(snapshot) {
    this.nodes = new Map(snapshot.nodes.map((node) => [node.id, node]));
    this.edges = new Map(snapshot.edges.map((edge) => [edge.id, edge]));
    this.runs = new Map((snapshot.runs || []).map((run) => [run.id, run]));
    for (const id of [...this.selection]) if (!this.nodes.has(id)) this.selection.delete(id);
    this.emit({ kind: "graph" });
    this.emit({ kind: "runs" });
  }

  edgesOf(nodeId) {
    return [...this.edges.values()].filter((edge) => edge.source === nodeId || edge.target === nodeId);
  }

  select(ids, { add = false } = {}) {
    if (!add) this.selection.clear();
    for (const id of ids) this.selection.add(id);
    this.emit({ kind: "selection" });
  }

  toggle(id) {
    if (this.selection.has(id)) this.selection.delete(id);
    else this.selection.add(id);
    this.emit({ kind: "selection" });
  }
}
