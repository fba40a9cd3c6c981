// What the canvas knows: node types, nodes, edges, selection, the last plan. The server is the truth;
// the store keeps the newest state it has heard of (from API answers and live events alike).

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

  putEdge(edge) {
    this.edges.set(edge.id, edge);
    this.emit({ kind: "edges" });
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

  // Live events by type (issue 14) ------------------------------------------------------------
  // Feature modules register one handler per event type; apply() hands an event to it. Events
  // with no handler are ignored.
  handlers = {};

  register(type, handler) {
    this.handlers[type] = handler;
  }

  apply(event) {
    this.handlers[event.type]?.(event, this);
  }
}
