// The canvas page: wires the store, the view, the editor and the live channel together.
// It talks only to the JSON API and the project's WebSocket (and loads the inspector with htmx).

import { api, ApiError, upload } from "./api.js";
import { escape, takesHtml } from "./cards.js";
import { Editor } from "./editor.js";
import { History } from "./history.js";
import { bindInteractions } from "./interactions.js";
import { confirmPlan, makeToaster, renderPresence, Search, showProblems } from "./panels.js";
import { Store } from "./store.js";
import { View } from "./view.js";
import { installWidgets } from "./widgets.js";
import { connectProject } from "../live.js";

const root = document.querySelector("[data-canvas]");
const projectId = root.dataset.project;
const me = root.dataset.user;
const store = new Store({ projectId, canEdit: root.dataset.canEdit === "true" });
const view = new View(root, store);
const toast = makeToaster(root.querySelector("[data-toasts]"));
const dialog = root.querySelector("[data-plan-dialog]");
const inspectorPanel = root.querySelector("#inspector");
const buttons = Object.fromEntries([...root.querySelectorAll("[data-action-button]")].map((b) => [b.dataset.actionButton, b]));
const history = new History(() => {
  if (buttons.undo) buttons.undo.disabled = !history.canUndo;
  if (buttons.redo) buttons.redo.disabled = !history.canRedo;
});
const editor = new Editor({ store, history, toast, onSettings: (id) => id === inspected && inspect(id, { reload: true }) });
let inspected = null;
let firstSnapshot = true;

// Running ---------------------------------------------------------------------------------------

async function run(targets, { confirm = true, force = false } = {}) {
  try {
    const path = `/projects/${projectId}/runs`;
    if (confirm) {
      const plan = await api("POST", path, { targets, dry_run: true, force });
      if (!(await confirmPlan(dialog, plan, store))) return;
    }
    const started = await api("POST", path, { targets, force });
    if (started.run) {
      store.runs.set(started.run.id, started.run);
      updateRunButtons();
      const count = started.nodes.filter((n) => n.action === "run").length;
      toast(count ? `Running ${count} node${count === 1 ? "" : "s"}.` : "Everything is cached: nothing to run.");
    }
  } catch (error) {
    if (error instanceof ApiError && error.code === "graph_invalid") showProblems(dialog, error, store);
    else toast(error.message, "error");
  }
}

function updateRunButtons() {
  const running = [...store.runs.values()].some((r) => r.status === "running");
  if (buttons.cancel) buttons.cancel.disabled = !running;
}

async function cancelRuns() {
  for (const run of [...store.runs.values()].filter((r) => r.status === "running")) {
    await api("POST", `/runs/${run.id}/cancel`).catch((error) => toast(error.message, "error"));
  }
}

// The plan of the whole graph, refreshed after changes: costs and problems shown on the cards.
let planTimer = 0;
function schedulePlan() {
  if (!store.canEdit) return;
  clearTimeout(planTimer);
  planTimer = setTimeout(refreshPlan, 900);
}

async function refreshPlan() {
  if (!store.nodes.size) return;
  const entry = (id) => JSON.stringify([store.plan.get(id), store.problems.get(id)]);
  const before = new Map([...store.plan.keys(), ...store.problems.keys()].map((id) => [id, entry(id)]));
  try {
    const plan = await api("POST", `/projects/${projectId}/runs`, { targets: [], dry_run: true });
    store.problems.clear();
    store.plan = new Map(plan.nodes.map((n) => [n.node, n]));
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "graph_invalid") return;
    store.plan.clear();
    store.problems = new Map(Object.entries(error.details.nodes || {}));
  }
  // Only the cards whose plan line or problems changed are drawn again.
  const ids = new Set([...before.keys(), ...store.plan.keys(), ...store.problems.keys()]);
  view.updateNodes([...ids].filter((id) => store.nodes.has(id) && before.get(id) !== entry(id)));
}

// Inspector -------------------------------------------------------------------------------------

// Shows a node's settings; a node already shown is not loaded again (that would drop what the
// user typed) unless `reload` (someone else changed it).
function inspect(id, { reload = false } = {}) {
  if (id && id === inspected && !reload) return;
  inspected = id;
  if (!id) {
    inspectorPanel.innerHTML = '<p class="muted">Select a node to see its settings.</p>';
    return;
  }
  window.htmx.ajax("GET", root.dataset.inspectorUrl.replace("00000000-0000-0000-0000-000000000000", id), { target: "#inspector", swap: "innerHTML" });
}

document.body.addEventListener("node-saved", (event) => {
  const { id, before, after } = event.detail;
  editor.recordSettings(id, before, after);
});

// Files and characters dropped on the canvas ----------------------------------------------------

async function dropFile(file, at) {
  const placeholder = document.createElement("div");
  placeholder.className = "node uploading";
  placeholder.style.left = `${at.x}px`;
  placeholder.style.top = `${at.y}px`;
  placeholder.innerHTML = `<header class="node-head"><span class="node-title">${escape(file.name)}</span></header>
    <div class="progress" data-upload-progress><div class="bar" style="width:0%"></div><span class="label">Uploading 0%</span></div>`;
  view.nodesLayer.append(placeholder);
  try {
    const asset = await upload(`/projects/${projectId}/assets`, file, (fraction) => {
      placeholder.querySelector(".bar").style.width = `${Math.round(fraction * 100)}%`;
      placeholder.querySelector(".label").textContent = `Uploading ${Math.round(fraction * 100)}%`;
    });
    if (asset.kind === "video") {
      toast("Videos are made by Video nodes; drop images (or a soundtrack) here.", "warning");
      return;
    }
    const type = asset.kind === "audio" ? "audio" : "image";
    const node = await editor.addNode({ type, title: file.name.replace(/\.[^.]+$/, "").slice(0, 120), x: at.x, y: at.y, params: { asset_id: asset.id } });
    if (type === "image") run([node.id], { confirm: false }); // finding the face costs nothing
  } catch (error) {
    toast(`${file.name}: ${error.message}`, "error");
  } finally {
    placeholder.remove();
  }
}

async function placeCharacter(characterId, at) {
  try {
    const asset = await api("POST", `/projects/${projectId}/assets/from-character/${characterId}`);
    const character = charactersById.get(characterId);
    const node = await editor.addNode({ type: "image", title: character?.name || "Character", x: at.x, y: at.y, params: { asset_id: asset.id } });
    run([node.id], { confirm: false });
  } catch (error) {
    toast(error.message, "error");
  }
}

// Add-node search and palette -------------------------------------------------------------------

async function addNodeAt(type, at) {
  try {
    const node = await editor.addNode({ type, x: Math.round(at.x), y: Math.round(at.y) });
    store.select([node.id]);
    inspect(node.id);
  } catch (error) {
    toast(error.message, "error");
  }
}

const search = new Search(root.querySelector("[data-search]"), store, addNodeAt);

function openSearch(clientX, clientY) {
  const rect = view.viewport.getBoundingClientRect();
  search.open(clientX - rect.left, clientY - rect.top, view.toWorld(clientX, clientY));
}

function buildPalette() {
  const list = root.querySelector("[data-palette-types]");
  if (!list) return;
  list.innerHTML = [...store.types.values()]
    .map((type) => `<li><button type="button" draggable="true" data-add-type="${escape(type.name)}" title="${escape(type.description)}">${escape(type.label)}</button></li>`)
    .join("");
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-add-type]");
    if (button) addNodeAt(button.dataset.addType, view.center());
  });
  list.addEventListener("dragstart", (event) => {
    const button = event.target.closest("[data-add-type]");
    if (button) event.dataTransfer.setData("application/x-reelgraph-type", button.dataset.addType);
  });
  view.viewport.addEventListener("drop", (event) => {
    const type = event.dataTransfer.getData("application/x-reelgraph-type");
    if (type) addNodeAt(type, view.toWorld(event.clientX, event.clientY));
  });
}

const charactersById = new Map();
let charactersTimer = 0;
function scheduleCharacters() {
  clearTimeout(charactersTimer);
  charactersTimer = setTimeout(loadCharacters, 500);
}

async function loadCharacters() {
  const list = root.querySelector("[data-palette-characters]");
  if (!list) return;
  const page = await api("GET", "/characters?page_size=100").catch(() => ({ items: [] }));
  for (const character of page.items) charactersById.set(character.id, character);
  list.innerHTML = page.items.length
    ? page.items
        .map(
          (c) => `<li draggable="true" data-character="${escape(c.id)}" title="Drag onto the canvas">
            ${c.face_url ? `<img src="${escape(c.face_url)}" alt="" draggable="false">` : ""}<span>${escape(c.name)}</span>${c.approximate ? '<span class="badge approximate">approximate</span>' : ""}</li>`,
        )
        .join("")
    : '<li class="muted small">Characters appear here when an image shows a face.</li>';
}

root.querySelector("[data-palette-characters]")?.addEventListener("dragstart", (event) => {
  const item = event.target.closest("[data-character]");
  if (item) event.dataTransfer.setData("application/x-reelgraph-character", item.dataset.character);
});

// Card buttons ----------------------------------------------------------------------------------

view.nodesLayer.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-action]");
  const id = event.target.closest("[data-node-id]")?.dataset.nodeId;
  if (!button || !id) return;
  const action = button.dataset.action;
  try {
    if (action === "run" || action === "retry") await run([id], { confirm: action === "run" });
    if (action === "takes") {
      const panel = view.elements.get(id).querySelector("[data-takes]");
      if (!panel.hidden) return (panel.hidden = true);
      const takes = await api("GET", `/projects/${projectId}/nodes/${id}/takes`);
      panel.innerHTML = takesHtml(takes, store.canEdit);
      panel.hidden = false;
    }
    if (action === "report") {
      const reason = window.prompt("What is wrong with this output? The moderators will look at it.");
      if (!reason?.trim()) return;
      await api("POST", `/projects/${projectId}/nodes/${id}/report`, { reason: reason.trim() });
      toast("Reported: the moderators will look at it, and hide it if it breaks the rules.");
    }
    if (action === "use-take") {
      const node = await api("POST", `/projects/${projectId}/nodes/${id}/takes/${button.dataset.take}/select`);
      store.putNode(node);
      if (id === inspected) inspect(id, { reload: true });
      toast(`Using take ${node.selected_take?.number}: everything downstream will follow it.`);
    }
  } catch (error) {
    toast(error.message, "error");
  }
});

// Toolbar ---------------------------------------------------------------------------------------

const actionsByButton = {
  "run-all": () => run([]),
  cancel: () => cancelRuns(),
  undo: () => history.undo().catch((error) => toast(error.message, "error")),
  redo: () => history.redo().catch((error) => toast(error.message, "error")),
  "zoom-in": () => view.zoomAt(1.2),
  "zoom-out": () => view.zoomAt(1 / 1.2),
  fit: () => view.fit(),
};
for (const [name, button] of Object.entries(buttons)) button.addEventListener("click", () => actionsByButton[name]?.());
view.viewport.addEventListener("viewport-changed", (event) => {
  const label = root.querySelector("[data-zoom-label]");
  const text = `${Math.round(event.detail.zoom * 100)}%`;
  if (label && label.textContent !== text) label.textContent = text; // an unchanged label must not repaint while panning
});

// Store -> view ---------------------------------------------------------------------------------

store.on((change) => {
  if (change.kind === "node") view.updateNode(change.id);
  else if (change.kind === "graph") view.renderAll();
  else if (change.kind === "edges") view.drawEdges();
  else if (change.kind === "selection") view.refreshSelection();
  if (change.kind !== "selection") schedulePlan();
});

// Live ------------------------------------------------------------------------------------------

const statusLabel = root.querySelector("[data-live-status]");
const presence = root.querySelector("[data-presence]");

function onEvent(event) {
  switch (event.type) {
    case "graph.snapshot":
      store.replaceAll(event);
      updateRunButtons();
      if (firstSnapshot) {
        firstSnapshot = false;
        view.fit();
        performance.mark("canvas-ready");
        root.dataset.ready = "true";
      }
      break;
    case "node.status":
    case "node.output":
    case "node.created":
    case "node.updated":
      store.putNode(event.node);
      if (event.node.output?.character && !charactersById.has(event.node.output.character)) scheduleCharacters();
      if (event.type === "node.updated" && event.node.id === inspected) refreshInspector(event);
      break;
    case "node.progress": {
      const node = store.nodes.get(event.node_id);
      if (node) Object.assign(node, { progress: event.progress, progress_label: event.label, job_id: event.job_id });
      view.updateProgress(event.node_id, event.progress, event.label);
      break;
    }
    case "node.deleted":
      store.removeNode(event.node_id, event.edge_ids);
      if (inspected === event.node_id) inspect(null);
      break;
    case "edge.created":
      for (const id of event.replaced) store.edges.delete(id);
      store.putEdge(event.edge);
      break;
    case "edge.deleted":
      store.removeEdge(event.edge_id);
      break;
    case "run.planned":
      if (event.run.status === "running") store.runs.set(event.run.id, event.run);
      updateRunButtons();
      break;
    case "run.finished":
      store.runs.delete(event.run.id);
      updateRunButtons();
      toast(`Run ${event.run.status}.`, event.run.status === "succeeded" ? "info" : "warning");
      break;
    case "job.error":
      if (event.retrying) toast(`${store.nodes.get(event.node_id)?.title || "A node"}: ${event.message} Trying again…`, "warning");
      break;
    case "presence":
      renderPresence(presence, event.users, me);
      break;
    case "member.changed":
      if (String(event.user_id) === root.dataset.userId) {
        toast(`Your role is now ${event.role}: reloading…`, "warning");
        setTimeout(() => location.reload(), 1200);
      }
      break;
    case "project.updated":
      root.querySelector("[data-project-name]").textContent = event.project.name;
      break;
  }
  store.apply(event); // the handlers that feature modules registered (widgets.js)
}

// The inspected node changed. A move only advances the form's version. Someone else's change of
// its settings reloads it, unless this user is typing there (then saving says so). This user's own
// changes reload it where they are made: an inspector save answers with the new form, and undo,
// redo and "use this take" reload it themselves (reloading here would race the save's answer).
function refreshInspector(event) {
  const form = inspectorPanel.querySelector("[data-inspector]");
  const version = form?.querySelector('[name="version"]');
  if (!version || Number(version.value) >= event.node.version) return;
  const shown = JSON.parse(inspectorPanel.querySelector("#inspector-shown")?.textContent || "null");
  if (shown && JSON.stringify(shown) === JSON.stringify({ title: event.node.title, params: event.node.params })) {
    version.value = event.node.version; // only moved: what the form shows is still right
    return;
  }
  if (event.by === me) return;
  if (form.contains(document.activeElement)) {
    toast(`${event.by} changed this node while you were editing it: saving will reload their version.`, "warning");
  } else {
    inspect(inspected, { reload: true });
  }
}

function connect() {
  connectProject(projectId, {
    onEvent,
    onState: (state) => {
      const labels = { live: "live", offline: "reconnecting…", connecting: "connecting…", refused: "no access" };
      const hints = {
        live: "Changes by others appear as they happen.",
        offline: "Live updates are paused: your changes still save, and this page catches up when it reconnects.",
      };
      statusLabel.textContent = labels[state];
      statusLabel.dataset.state = state;
      statusLabel.title = hints[state] ?? "";
      if (state === "refused") {
        store.canEdit = false;
        toast("You are no longer a member of this project: nothing here updates or saves any more.", "error");
      }
    },
  });
}

// Start -----------------------------------------------------------------------------------------

bindInteractions({
  root,
  store,
  view,
  editor,
  history,
  toast,
  actions: { inspect, run, openSearch, closeSearch: () => search.close(), dropFile, placeCharacter },
});
view.applyTransform();
api("GET", "/node-types")
  .then((types) => {
    store.setTypes(types);
    buildPalette();
    connect(); // the snapshot comes first on the live channel, and cards need their types to draw
  })
  .catch((error) => toast(error.message, "error"));
loadCharacters();
const widgets = installWidgets({ root, store, view, editor, history, api, toast, actions: { run, inspect, openSearch, addNodeAt, dropFile } });
window.reelgraph = { store, view, history, editor, widgets }; // for tests and benchmarks
