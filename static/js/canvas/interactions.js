// Pointer and keyboard: pan, zoom, select (click, shift-click, marquee), drag nodes, connect ports,
// delete, copy/paste/duplicate, undo/redo, run the selection, double-click search, file drops.

const TYPING = "input, textarea, select, [contenteditable], video, audio";

export function bindInteractions({ root, store, view, editor, history, actions, toast }) {
  const viewport = view.viewport;
  const marquee = root.querySelector("[data-marquee]");
  let gesture = null;
  let clipboard = null;
  let selectedEdge = null;

  const kindOf = (nodeId, direction, port) => {
    const type = store.type(store.nodes.get(nodeId)?.type);
    return (direction === "out" ? type?.outputs : type?.inputs)?.find((p) => p.name === port)?.kind;
  };

  viewport.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const port = event.target.closest("[data-port]");
    const card = event.target.closest("[data-node-id]");
    const edge = event.target.closest("[data-edge]");
    selectEdge(null);
    if (port && store.canEdit) return startConnect(event, port, card.dataset.nodeId);
    if (card && !event.target.closest("button, a, video, audio, input, textarea, select, [data-takes]")) return startDrag(event, card.dataset.nodeId);
    if (edge && store.canEdit) return selectEdge(edge.dataset.edge);
    if (!card && !edge) {
      if (event.shiftKey) return startMarquee(event);
      return startPan(event);
    }
  });

  function capture(event, handlers) {
    viewport.setPointerCapture(event.pointerId);
    gesture = handlers;
  }

  viewport.addEventListener("pointermove", (event) => gesture?.move(event));
  viewport.addEventListener("pointerup", (event) => {
    const finished = gesture;
    gesture = null;
    finished?.end(event);
  });
  viewport.addEventListener("pointercancel", () => {
    gesture?.cancel?.();
    gesture = null;
  });

  function startPan(event) {
    const start = { x: event.clientX, y: event.clientY, pan: { ...view.pan } };
    let moved = false;
    viewport.classList.add("panning");
    capture(event, {
      move(e) {
        moved = moved || Math.abs(e.clientX - start.x) + Math.abs(e.clientY - start.y) > 3;
        view.pan = { x: start.pan.x + e.clientX - start.x, y: start.pan.y + e.clientY - start.y };
        view.applyTransform();
      },
      end() {
        viewport.classList.remove("panning");
        if (!moved) store.select([]);
      },
    });
  }

  function startMarquee(event) {
    const rect = viewport.getBoundingClientRect();
    const start = { x: event.clientX, y: event.clientY };
    marquee.hidden = false;
    const draw = (e) => {
      const left = Math.min(start.x, e.clientX) - rect.left;
      const top = Math.min(start.y, e.clientY) - rect.top;
      Object.assign(marquee.style, {
        left: `${left}px`,
        top: `${top}px`,
        width: `${Math.abs(e.clientX - start.x)}px`,
        height: `${Math.abs(e.clientY - start.y)}px`,
      });
    };
    draw(event);
    capture(event, {
      move: draw,
      end(e) {
        marquee.hidden = true;
        const a = view.toWorld(start.x, start.y);
        const b = view.toWorld(e.clientX, e.clientY);
        const [left, right, top, bottom] = [Math.min(a.x, b.x), Math.max(a.x, b.x), Math.min(a.y, b.y), Math.max(a.y, b.y)];
        const inside = [...store.nodes.keys()].filter((id) => {
          const box = view.box(id);
          return box.x < right && box.x + box.width > left && box.y < bottom && box.y + box.height > top;
        });
        store.select(inside, { add: true });
      },
    });
  }

  function startDrag(event, id) {
    if (event.shiftKey) {
      store.toggle(id);
      return;
    }
    if (!store.selection.has(id)) store.select([id]);
    actions.inspect(store.selection.size === 1 ? id : null);
    if (!store.canEdit) return;
    const origin = view.toWorld(event.clientX, event.clientY);
    const starts = new Map([...store.selection].map((nodeId) => [nodeId, { x: store.nodes.get(nodeId).x, y: store.nodes.get(nodeId).y }]));
    let moved = false;
    capture(event, {
      move(e) {
        const here = view.toWorld(e.clientX, e.clientY);
        const dx = here.x - origin.x;
        const dy = here.y - origin.y;
        moved = moved || Math.abs(dx) + Math.abs(dy) > 2;
        for (const [nodeId, start] of starts) {
          const node = store.nodes.get(nodeId);
          if (!node) continue;
          node.x = Math.round(start.x + dx);
          node.y = Math.round(start.y + dy);
          view.moveElement(nodeId, node.x, node.y);
        }
      },
      end() {
        if (!moved) return;
        const moves = [...starts].map(([nodeId, from]) => ({ id: nodeId, from, to: { x: store.nodes.get(nodeId)?.x, y: store.nodes.get(nodeId)?.y } }));
        editor.moveNodes(moves.filter((move) => move.to.x !== undefined)).catch((error) => toast(error.message, "error"));
      },
      cancel() {
        for (const [nodeId, start] of starts) view.moveElement(nodeId, start.x, start.y);
      },
    });
  }

  function startConnect(event, portElement, nodeId) {
    const direction = portElement.dataset.direction;
    const port = portElement.dataset.port;
    const kind = portElement.dataset.kind;
    const anchor = view.portPosition(nodeId, direction, port);
    view.pending = { from: anchor, to: anchor };
    viewport.classList.add("connecting");
    markCompatible(direction, kind, nodeId);
    capture(event, {
      move(e) {
        const here = view.toWorld(e.clientX, e.clientY);
        view.pending = direction === "out" ? { from: anchor, to: here } : { from: here, to: anchor };
        view.scheduleEdges();
      },
      end(e) {
        clearMarks();
        view.pending = null;
        view.scheduleEdges();
        const target = document.elementFromPoint(e.clientX, e.clientY)?.closest("[data-port]");
        const targetNode = target?.closest("[data-node-id]")?.dataset.nodeId;
        if (!target || !targetNode || target.dataset.direction === direction) return;
        const edge =
          direction === "out"
            ? { source: nodeId, source_port: port, target: targetNode, target_port: target.dataset.port }
            : { source: targetNode, source_port: target.dataset.port, target: nodeId, target_port: port };
        const sourceKind = kindOf(edge.source, "out", edge.source_port);
        const targetKind = kindOf(edge.target, "in", edge.target_port);
        if (sourceKind !== targetKind) {
          const input = direction === "out" ? target : portElement;
          const output = direction === "out" ? portElement : target;
          const label = (element) => element.querySelector(".port-label").textContent.replace("*", "");
          view.showHint(`${label(input)} takes ${targetKind}, but ${label(output)} is ${sourceKind}: they cannot connect.`, e.clientX, e.clientY);
          input.classList.add("refused");
          setTimeout(() => input.classList.remove("refused"), 2500);
          return;
        }
        editor.connect(edge).catch((error) => view.showHint(error.message, e.clientX, e.clientY));
      },
      cancel() {
        clearMarks();
        view.pending = null;
        view.scheduleEdges();
      },
    });
  }

  function markCompatible(direction, kind, nodeId) {
    for (const element of view.nodesLayer.querySelectorAll("[data-port]")) {
      if (element.dataset.direction === direction || element.closest("[data-node-id]").dataset.nodeId === nodeId) continue;
      element.classList.add(element.dataset.kind === kind ? "compatible" : "incompatible");
    }
  }

  function clearMarks() {
    viewport.classList.remove("connecting");
    for (const element of view.nodesLayer.querySelectorAll(".compatible, .incompatible")) element.classList.remove("compatible", "incompatible");
  }

  function selectEdge(id) {
    selectedEdge = id;
    for (const path of view.edgesLayer.querySelectorAll("[data-edge]")) path.classList.toggle("selected", path.dataset.edge === id);
  }

  // Zoom ------------------------------------------------------------------------------------------

  viewport.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      view.zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY);
    },
    { passive: false },
  );

  // Search to add ---------------------------------------------------------------------------------

  viewport.addEventListener("dblclick", (event) => {
    if (!store.canEdit || event.target.closest("[data-node-id]")) return;
    actions.openSearch(event.clientX, event.clientY);
  });

  // Keyboard --------------------------------------------------------------------------------------

  document.addEventListener("keydown", async (event) => {
    if (event.target.closest?.(TYPING) || root.querySelector("dialog[open]")) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    try {
      if (mod && key === "z" && !event.shiftKey) {
        event.preventDefault();
        if (store.canEdit) await history.undo();
      } else if (mod && ((key === "z" && event.shiftKey) || key === "y")) {
        event.preventDefault();
        if (store.canEdit) await history.redo();
      } else if (mod && key === "enter") {
        event.preventDefault();
        if (store.canEdit) actions.run([...store.selection]);
      } else if (mod && key === "a") {
        event.preventDefault();
        store.select([...store.nodes.keys()]);
      } else if (mod && key === "c") {
        clipboard = editor.snapshotOf([...store.selection]);
        if (clipboard.nodes.length) toast(`Copied ${clipboard.nodes.length} node${clipboard.nodes.length > 1 ? "s" : ""}.`);
      } else if (mod && key === "v" && clipboard && store.canEdit) {
        event.preventDefault();
        await editor.paste(clipboard, { x: 40, y: 40 });
      } else if (mod && key === "d" && store.canEdit) {
        event.preventDefault();
        await editor.paste(editor.snapshotOf([...store.selection]), { x: 40, y: 40 });
      } else if ((key === "delete" || key === "backspace") && store.canEdit) {
        event.preventDefault();
        if (selectedEdge) {
          const id = selectedEdge;
          selectEdge(null);
          await editor.disconnect(id);
        } else {
          const ids = [...store.selection];
          actions.inspect(null);
          await editor.deleteNodes(ids);
        }
      } else if (key === "escape") {
        store.select([]);
        selectEdge(null);
        actions.closeSearch();
      }
    } catch (error) {
      toast(error.message, "error");
    }
  });

  // Files dropped on the canvas -------------------------------------------------------------------

  viewport.addEventListener("dragover", (event) => {
    if (!store.canEdit) return;
    event.preventDefault();
    viewport.classList.add("dropping");
  });
  viewport.addEventListener("dragleave", () => viewport.classList.remove("dropping"));
  viewport.addEventListener("drop", (event) => {
    if (!store.canEdit) return;
    event.preventDefault();
    viewport.classList.remove("dropping");
    const at = view.toWorld(event.clientX, event.clientY);
    const character = event.dataTransfer.getData("application/x-reelgraph-character");
    if (character) return actions.placeCharacter(character, at);
    const files = [...event.dataTransfer.files];
    files.forEach((file, index) => actions.dropFile(file, { x: at.x + index * 30, y: at.y + index * 30 }));
  });
}
