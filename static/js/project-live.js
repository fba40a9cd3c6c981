import { connectProject } from "./live.js";

const table = document.querySelector("[data-project-live]");
const statusLabel = document.querySelector("[data-live-status]");
const seen = new Map(); // node id -> updated_at of the newest state shown

function render(node) {
  if ((seen.get(node.id) ?? "") > node.updated_at) return; // an older event than what is shown
  seen.set(node.id, node.updated_at);
  const row = table.querySelector(`[data-node="${node.id}"]`);
  if (!row) return;
  const badge = row.querySelector('[data-field="status"]');
  badge.textContent = node.status;
  badge.className = `badge status-${node.status}`;
  const progress = row.querySelector('[data-field="progress"]');
  progress.textContent = node.job_id ? `${Math.round(node.progress * 100)}% ${node.progress_label}` : "";
}

connectProject(table.dataset.projectLive, {
  onState: (state) => {
    statusLabel.textContent = state;
    statusLabel.dataset.state = state;
  },
  onEvent: (event) => {
    if (event.type === "graph.snapshot") event.nodes.forEach(render);
    if (event.type === "node.status" || event.type === "node.output") render(event.node);
    if (event.type === "node.progress") {
      const cell = table.querySelector(`[data-node="${event.node_id}"] [data-field="progress"]`);
      if (cell) cell.textContent = `${Math.round(event.progress * 100)}% ${event.label}`;
    }
  },
});
