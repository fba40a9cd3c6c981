// Dragging from a port draws a wire; dropped on a port of the other direction it connects them (a
// kind mismatch is refused with a hint at the port); an output's wire dropped on empty canvas opens
// the node search, filtered to the types that accept it, and connects the node chosen there.

export class Connect {
  constructor({ view, store, editor, actions }, event, portElement, nodeId) {
    Object.assign(this, { view, store, editor, actions, portElement, nodeId });
    this.direction = portElement.dataset.direction;
    this.port = portElement.dataset.port;
    this.kind = portElement.dataset.kind;
    this.anchor = view.portPosition(nodeId, this.direction, this.port);
    view.pending = { from: this.anchor, to: this.anchor };
    view.viewport.classList.add("connecting");
    this.markCompatible();
  }

  move(event) {
    const here = this.view.toWorld(event.clientX, event.clientY);
    this.view.pending = this.direction === "out" ? { from: this.anchor, to: here } : { from: here, to: this.anchor };
    this.view.scheduleEdges();
  }

  end(event) {
    this.cancel();
    const hit = document.elementFromPoint(event.clientX, event.clientY);
    const target = hit?.closest("[data-port]");
    const targetNode = target?.closest("[data-node-id]")?.dataset.nodeId;
    if (!target || !targetNode) {
      const onEmptyCanvas = hit && this.view.viewport.contains(hit) && !hit.closest("[data-node-id]");
      if (onEmptyCanvas && this.direction === "out" && this.store.canEdit) {
        this.actions.openSearch(event.clientX, event.clientY, { accepts: this.kind, wire: { node: this.nodeId, port: this.port, kind: this.kind } });
      }
      return;
    }
    if (target.dataset.direction === this.direction) return;
    const out = this.direction === "out";
    const edge = out
      ? { source: this.nodeId, source_port: this.port, target: targetNode, target_port: target.dataset.port }
      : { source: targetNode, source_port: target.dataset.port, target: this.nodeId, target_port: this.port };
    const sourceKind = this.kindOf(edge.source, "out", edge.source_port);
    const targetKind = this.kindOf(edge.target, "in", edge.target_port);
    if (sourceKind !== targetKind) return this.refuse(out ? target : this.portElement, out ? this.portElement : target, sourceKind, targetKind, event);
    this.editor.connect(edge).catch((error) => this.view.showHint(error.message, event.clientX, event.clientY));
  }

  refuse(input, output, sourceKind, targetKind, event) {
    const label = (element) => element.querySelector(".port-label").textContent.replace("*", "");
    this.view.showHint(`${label(input)} takes ${targetKind}, but ${label(output)} is ${sourceKind}: they cannot connect.`, event.clientX, event.clientY);
    input.classList.add("refused");
    setTimeout(() => input.classList.remove("refused"), 2500);
  }

  cancel() {
    this.view.viewport.classList.remove("connecting");
    for (const element of this.view.nodesLayer.querySelectorAll(".compatible, .incompatible")) element.classList.remove("compatible", "incompatible");
    this.view.pending = null;
    this.view.scheduleEdges();
  }

  kindOf(nodeId, direction, port) {
    const type = this.store.type(this.store.nodes.get(nodeId)?.type);
    return (direction === "out" ? type?.outputs : type?.inputs)?.find((p) => p.name === port)?.kind;
  }

  markCompatible() {
    for (const element of this.view.nodesLayer.querySelectorAll("[data-port]")) {
      if (element.dataset.direction === this.direction || element.closest("[data-node-id]").dataset.nodeId === this.nodeId) continue;
      element.classList.add(element.dataset.kind === this.kind ? "compatible" : "incompatible");
    }
  }
}
