// A wire dropped on empty canvas opens the node search there, filtered to the types that can
// take it (or feed it), and connects the node picked: the habit of ComfyUI and its kin.

import { Search } from "./panels.js";

const MIN_DRAG = 20; // screen pixels: a click on a port is not a dropped wire

export function installWireDrop({ root, store, view, editor, toast }) {
  if (!store.canEdit) return null;
  const viewport = view.viewport;
  const element = root.querySelector("[data-search]").cloneNode(true); // the same look as the search
  delete element.dataset.search;
  element.dataset.wireSearch = "";
  viewport.append(element);
  const offer = { types: new Map() }; // what the search lists: the types that fit the wire
  let wire = null; // the port a connection is being dragged from
  const search = new Search(element, offer, (type, at) => addConnected(type, at).catch((error) => toast(error.message, "error")));

  // Capture: seen before the connect gesture starts, and whatever it does with the event.
  viewport.addEventListener("pointerdown", (event) => {
    const port = event.button === 0 ? event.target.closest("[data-port]") : null;
    wire = port && {
      node: port.closest("[data-node-id]").dataset.nodeId,
      direction: port.dataset.direction,
      port: port.dataset.port,
      kind: port.dataset.kind,
      x: event.clientX,
      y: event.clientY,
    };
  }, true);
  // Bubbling, after the connect gesture ended (it listens on the viewport too, and first).
  viewport.addEventListener("pointerup", (event) => {
    const from = wire;
    wire = null;
    if (!from || Math.hypot(event.clientX - from.x, event.clientY - from.y) < MIN_DRAG) return;
    const under = document.elementFromPoint(event.clientX, event.clientY);
    if (!viewport.contains(under) || under.closest("[data-node-id], [data-note], [data-minimap], [data-runs-panel]")) return;
    open(from, event.clientX, event.clientY);
  });
  document.addEventListener("pointerdown", (event) => !element.hidden && !element.contains(event.target) && search.close(), true);

  let pending = null; // the wire the open search was opened for
  function open(from, clientX, clientY) {
    offer.types = new Map([...store.types].filter(([, type]) => matchingPort(type, from)));
    if (!offer.types.size) return toast(`No node type can connect to this ${from.kind}.`, "warning");
    pending = from;
    const rect = viewport.getBoundingClientRect();
    search.open(clientX - rect.left, clientY - rect.top, view.toWorld(clientX, clientY));
    keepInside(element, viewport);
  }

  async function addConnected(typeName, at) {
    const from = pending;
    const type = store.type(typeName);
    const port = matchingPort(type, from).name;
    // The new card's port lands near where the wire was dropped: inputs on its left, outputs on its right.
    const x = Math.round(from.direction === "out" ? at.x : at.x - view.box(from.node).width);
    const node = await editor.addNode({ type: typeName, x, y: Math.round(at.y - 40) });
    const mine = { node: node.id, port };
    const [source, target] = from.direction === "out" ? [from, mine] : [mine, from];
    await editor.connect({ source: source.node, source_port: source.port, target: target.node, target_port: target.port });
    store.select([node.id]);
  }

  return search;
}

// Moves the open search back inside the viewport. Focusing its input scrolled the viewport (an
// overflow:hidden box still scrolls to show a focused element), which would shift the whole canvas.
function keepInside(element, viewport) {
  const left = Math.min(element.offsetLeft, viewport.clientWidth - element.offsetWidth);
  const top = Math.min(element.offsetTop, viewport.clientHeight - element.offsetHeight);
  Object.assign(element.style, { left: `${Math.max(0, left)}px`, top: `${Math.max(0, top)}px` });
  viewport.scrollLeft = 0;
  viewport.scrollTop = 0;
}

// The first port of `type` that can take the wire's other end, or undefined.
function matchingPort(type, from) {
  const ports = from.direction === "out" ? type.inputs : type.outputs;
  return ports.find((port) => port.kind === from.kind);
}
