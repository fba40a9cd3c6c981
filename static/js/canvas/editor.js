// Every edit the canvas makes: through the JSON API, into the store, and onto the undo history.

import { api, ApiError } from "./api.js";

export class Editor {
  // onSettings(id): called after undo or redo changed a node's settings, to show them.
  constructor({ store, history, toast, onSettings }) {
    this.store = store;
    this.history = history;
    this.toast = toast;
    this.onSettings = onSettings;
  }

  // A PATCH with the version we hold. When someone else changed the node meanwhile, their version
  // wins: we show it and say so, and never overwrite it silently.
  async patch(id, changes) {
    const node = this.store.nodes.get(id);
    try {
      const updated = await api("PATCH", `/projects/${this.store.projectId}/nodes/${id}`, { version: node.version, ...changes });
      this.store.putNode(updated);
      return updated;
    } catch (error) {
      if (error instanceof ApiError && error.code === "stale_version") {
        this.store.putNode(error.details.node);
        this.toast(`${node.title || "This node"} was changed by someone else just now: it is reloaded. Make your change again.`, "warning");
      }
      throw error;
    }
  }

  async createNode(data) {
    const node = await api("POST", `/projects/${this.store.projectId}/nodes`, data);
    this.store.putNode(node);
    return node;
  }

  async addNode(data) {
    const node = await this.createNode(data);
    let id = node.id;
    this.history.record({
      label: "add node",
      undo: async (h) => {
        await this.deleteOne(h.id(id));
      },
      redo: async (h) => {
        const again = await this.createNode(data);
        h.alias(id, again.id);
        id = again.id;
      },
    });
    return node;
  }

  async deleteOne(id) {
    await api("DELETE", `/projects/${this.store.projectId}/nodes/${id}`);
    this.store.removeNode(id);
  }

  async moveNodes(moves) {
    const done = [];
    for (const move of moves) {
      try {
        await this.patch(move.id, move.to);
        done.push(move);
      } catch (error) {
        if (error.code !== "stale_version") this.toast(error.message, "error");
      }
    }
    if (!done.length) return;
    this.history.record({
      label: "move",
      undo: async (h) => {
        for (const move of done) await this.patch(h.id(move.id), move.from);
      },
      redo: async (h) => {
        for (const move of done) await this.patch(h.id(move.id), move.to);
      },
    });
  }

  snapshotOf(ids) {
    const chosen = new Set(ids);
    const nodes = ids.map((id) => this.store.nodes.get(id)).filter(Boolean);
    const edges = [...this.store.edges.values()].filter((e) => chosen.has(e.source) || chosen.has(e.target));
    return {
      nodes: nodes.map((n) => ({ id: n.id, type: n.type, title: n.title, x: n.x, y: n.y, params: n.params })),
      edges: edges.map((e) => ({ source: e.source, source_port: e.source_port, target: e.target, target_port: e.target_port, order: e.order })),
    };
  }

  // Build nodes and the edges between them (or to nodes that still exist); returns old id -> new id.
  async build(snapshot, offset = { x: 0, y: 0 }, h = this.history) {
    const created = new Map();
    for (const node of snapshot.nodes) {
      const made = await this.createNode({ type: node.type, title: node.title, x: node.x + offset.x, y: node.y + offset.y, params: node.params });
      created.set(node.id, made.id);
    }
    for (const edge of snapshot.edges) {
      const source = created.get(edge.source) || h.id(edge.source);
      const target = created.get(edge.target) || h.id(edge.target);
      if (!this.store.nodes.has(source) || !this.store.nodes.has(target)) continue;
      const made = await api("POST", `/projects/${this.store.projectId}/edges`, { source, source_port: edge.source_port, target, target_port: edge.target_port, order: edge.order });
      this.store.putEdge(made);
    }
    return created;
  }

  async deleteNodes(ids) {
    if (!ids.length) return;
    const snapshot = this.snapshotOf(ids);
    for (const id of ids) await this.deleteOne(id);
    let current = snapshot;
    this.history.record({
      label: "delete",
      undo: async (h) => {
        const created = await this.build(current, { x: 0, y: 0 }, h);
        for (const [oldId, newId] of created) h.alias(oldId, newId);
      },
      redo: async (h) => {
        const ids = current.nodes.map((n) => h.id(n.id));
        current = { ...current, nodes: current.nodes.map((n) => ({ ...n, id: h.id(n.id) })) };
        for (const id of ids) await this.deleteOne(id);
      },
    });
  }

  // The whole graph as the server has it (nodes, edges, notes), through the same path as the live snapshot.
  async reloadGraph() {
    const graph = await api("GET", `/projects/${this.store.projectId}/graph`);
    this.store.apply({ ...graph, type: "graph.snapshot" });
  }

  // A storyboard's shots become nodes (actions/storyboard.py); one undo step takes the expansion back.
  async expand(id) {
    const expandOnce = async () => {
      const answer = await api("POST", `/projects/${this.store.projectId}/nodes/${this.history.id(id)}/expand`);
      await this.reloadGraph();
      return answer;
    };
    let done = await expandOnce();
    this.history.record({
      label: "expand",
      undo: async (h) => {
        const gone = (error) => {
          if (error.status !== 404) throw error;
        };
        for (const nodeId of done.created) await api("DELETE", `/projects/${this.store.projectId}/nodes/${h.id(nodeId)}`).catch(gone);
        for (const edgeId of done.edges) await api("DELETE", `/projects/${this.store.projectId}/edges/${edgeId}`).catch(gone);
        if (done.frame_created) await api("DELETE", `/projects/${this.store.projectId}/notes/${done.frame}`).catch(gone);
        await this.reloadGraph();
        for (const before of done.restored) await this.patch(h.id(before.id), { params: before.params });
        if (done.deleted.length) await this.build({ nodes: done.deleted, edges: [] }, { x: 0, y: 0 }, h);
        await this.reloadGraph();
      },
      redo: async () => {
        done = await expandOnce();
      },
    });
    return done;
  }

  // One shot of a storyboard written again by the text model (actions/regenerating.py); undone like
  // a settings edit, back to the shots as they were just before.
  async regenerateShot(id, shotId) {
    const before = await api("GET", `/projects/${this.store.projectId}/nodes/${id}`);
    const updated = await api("POST", `/projects/${this.store.projectId}/nodes/${id}/shots/${encodeURIComponent(shotId)}/regenerate`);
    this.store.putNode(updated);
    this.recordSettings(id, { title: before.title, params: before.params }, { title: updated.title, params: updated.params });
    return updated;
  }

  async paste(snapshot, offset) {
    const created = await this.build(snapshot, offset);
    const ids = [...created.values()];
    this.store.select(ids);
    let current = ids;
    this.history.record({
      label: "paste",
      undo: async (h) => {
        for (const id of current) await this.deleteOne(h.id(id));
      },
      redo: async (h) => {
        const again = await this.build(snapshot, offset, h);
        for (const [index, newId] of [...again.values()].entries()) h.alias(current[index], newId);
        current = [...again.values()];
      },
    });
    return ids;
  }

  async createEdge(edge, replace = false) {
    const made = await api("POST", `/projects/${this.store.projectId}/edges`, { ...edge, replace });
    if (!this.isMulti(made.target, made.target_port)) {
      for (const [id, existing] of this.store.edges) {
        if (id !== made.id && existing.target === made.target && existing.target_port === made.target_port) this.store.removeEdge(id);
      }
    }
    this.store.putEdge(made);
    return made;
  }

  async connect(edge) {
    const replaced = [...this.store.edges.values()].filter(
      (e) => e.target === edge.target && e.target_port === edge.target_port && !this.isMulti(edge.target, edge.target_port),
    );
    const made = await this.createEdge(edge, true);
    let id = made.id;
    this.history.record({
      label: "connect",
      undo: async (h) => {
        await this.removeEdge(id);
        for (const old of replaced) {
          const back = await this.createEdge({ ...this.edgeFields(old), source: h.id(old.source), target: h.id(old.target) });
          old.id = back.id;
        }
      },
      redo: async (h) => {
        const again = await this.createEdge({ ...edge, source: h.id(edge.source), target: h.id(edge.target) }, true);
        id = again.id;
      },
    });
    return made;
  }

  isMulti(nodeId, port) {
    return Boolean(this.store.type(this.store.nodes.get(nodeId)?.type)?.inputs.find((p) => p.name === port)?.multi);
  }

  edgeFields(edge) {
    return { source: edge.source, source_port: edge.source_port, target: edge.target, target_port: edge.target_port, order: edge.order };
  }

  async removeEdge(id) {
    await api("DELETE", `/projects/${this.store.projectId}/edges/${id}`);
    this.store.removeEdge(id);
  }

  async disconnect(id) {
    const edge = this.edgeFields(this.store.edges.get(id));
    await this.removeEdge(id);
    let current = id;
    this.history.record({
      label: "disconnect",
      undo: async (h) => {
        current = (await this.createEdge({ ...edge, source: h.id(edge.source), target: h.id(edge.target) })).id;
      },
      redo: async () => {
        await this.removeEdge(current);
      },
    });
  }

  // The edges into a multi port (Stitch's clips), put in a new order; undoable.
  async reorderInputs(nodeId, port, edgeIds) {
    const before = this.orderedEdges(nodeId, port).map((edge) => edge.id);
    await this.putOrder(nodeId, port, edgeIds);
    this.history.record({
      label: "reorder",
      undo: async (h) => this.putOrder(h.id(nodeId), port, before),
      redo: async (h) => this.putOrder(h.id(nodeId), port, edgeIds),
    });
  }

  async putOrder(nodeId, port, edgeIds) {
    const edges = await api("PUT", `/projects/${this.store.projectId}/nodes/${nodeId}/inputs/${port}/order`, { edges: edgeIds });
    this.store.putEdges(edges);
    return edges;
  }

  orderedEdges(nodeId, port) {
    return [...this.store.edges.values()].filter((edge) => edge.target === nodeId && edge.target_port === port).sort((a, b) => a.order - b.order);
  }

  // Settings changed outside the inspector (a card's new file, a prompt typed on its card): saved
  // with the version held, and undoable.
  async setParams(id, changes) {
    const node = this.store.nodes.get(id);
    const before = { title: node.title, params: node.params };
    const updated = await this.patch(id, { params: { ...node.params, ...changes } });
    this.recordSettings(id, before, { title: updated.title, params: updated.params });
    this.onSettings?.(id);
    return updated;
  }

  // A save made in the inspector (by htmx): recorded so that it can be undone like any other edit.
  recordSettings(id, before, after) {
    const schema = this.store.type(this.store.nodes.get(id)?.type)?.params_schema?.properties || {};
    // A setting absent on one side had its default there (a list made by a factory, like a storyboard's
    // shots, has none in the schema: an empty one), so undo and redo send it explicitly.
    const fallback = (property) => property?.default ?? (property?.type === "array" ? [] : null);
    const complete = (params) => Object.fromEntries(Object.keys({ ...before.params, ...after.params }).map((key) => [key, key in params ? params[key] : fallback(schema[key])]));
    const beforeFull = { title: before.title, params: complete(before.params) };
    const afterFull = { title: after.title, params: complete(after.params) };
    this.history.record({
      label: "settings",
      undo: async (h) => this.onSettings?.((await this.patch(h.id(id), beforeFull)).id),
      redo: async (h) => this.onSettings?.((await this.patch(h.id(id), afterFull)).id),
    });
  }
}
